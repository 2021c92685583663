//! `twinport health`: asks the connector started from the same config whether it is ready (`GET /readyz` on its
//! management listener), for a container's HEALTHCHECK or a unit's watchdog where no HTTP client is installed.
//! It speaks HTTPS when the config has `[tls]`, which a shell probe over `/dev/tcp` cannot.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::config::Config;

/// Exit 0 when `/readyz` answers 200, 1 otherwise (saying what it got), 2 when the config cannot be read.
pub fn run(config: &Path, timeout_seconds: u64) -> ExitCode {
    let config = match Config::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("twinport health: {e:#}");
            return ExitCode::from(2);
        }
    };
    let url = readyz_url(config.management_listen, config.tls.server.is_some());
    let probe = async {
        // The probe is on loopback and carries nothing secret (no token, no body): it does not verify the
        // certificate, whose names are the public ones, not 127.0.0.1.
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(timeout_seconds))
            .no_proxy()
            .build()
            .context("building the HTTP client")?;
        let response = client
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        anyhow::Ok(response.status())
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("twinport health: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(probe) {
        Ok(status) if status.is_success() => {
            println!("ready: {url} answered {status}");
            ExitCode::SUCCESS
        }
        Ok(status) => {
            println!("not ready: {url} answered {status}");
            ExitCode::from(1)
        }
        Err(e) => {
            println!("not ready: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The management listener's `/readyz`, reached on loopback when it listens on every address.
fn readyz_url(listen: SocketAddr, https: bool) -> String {
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{}/readyz", on_this_machine(listen))
}

/// Where a command on this machine reaches a listener: its own address, or loopback when it listens on every
/// address (`0.0.0.0`, `::`), which cannot be connected to.
pub(super) fn on_this_machine(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_on_every_address_is_asked_on_loopback() {
        assert_eq!(
            readyz_url("0.0.0.0:8081".parse().unwrap(), false),
            "http://127.0.0.1:8081/readyz"
        );
        assert_eq!(
            readyz_url("[::]:8081".parse().unwrap(), true),
            "https://[::1]:8081/readyz"
        );
        assert_eq!(
            readyz_url("10.0.0.5:9081".parse().unwrap(), true),
            "https://10.0.0.5:9081/readyz"
        );
    }
}
