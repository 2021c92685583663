//! nginx as the reverse proxy an operator would otherwise put in the path, for `twinport bench dataplane` to
//! compare the data plane with on the same hop: started from a generated configuration in a temporary directory
//! when an `nginx` binary is found, with upstream keep-alive (as nginx is deployed in front of a backend), and
//! stopped when dropped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// A running nginx, proxying every path to one backend.
pub struct Nginx {
    child: Child,
    binary: PathBuf,
    dir: PathBuf,
    /// Its base URL.
    pub url: String,
}

/// The nginx binary on the PATH, or where Debian installs it (`/usr/sbin`, often not on a user's PATH).
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

impl Nginx {
    /// Starts nginx in front of `backend` (`http://host:port`), with one worker per CPU in `cpus`, each pinned to
    /// its CPU (or two unpinned workers when `cpus` is empty). `None` when there is no nginx binary.
    pub fn start(backend: &str, cpus: &[usize]) -> anyhow::Result<Option<Nginx>> {
        let Some(binary) = binary() else {
            return Ok(None);
        };
        let upstream = backend
            .strip_prefix("http://")
            .context("nginx proxies a plain-HTTP backend only")?
            .trim_end_matches('/');
        let port = free_port()?;
        let dir =
            std::env::temp_dir().join(format!("twinport-nginx-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("nginx.conf"), config(&dir, upstream, port, cpus))?;
        let child = Command::new(&binary)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut nginx = Nginx {
            child,
            binary,
            dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        nginx.wait_ready(port)?;
        Ok(Some(nginx))
    }

    fn wait_ready(&mut self, port: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
                anyhow::bail!("nginx exited ({status}): {}", log.trim());
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        anyhow::bail!("nginx did not listen on port {port} within 5 s")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Killing the master outright would leave its workers running, orphaned (each benchmark run left two
        // behind): asked to stop, the master ends its workers, then itself.
        let _ = Command::new(&self.binary)
            .arg("-p")
            .arg(&self.dir)
            .arg("-c")
            .arg(self.dir.join("nginx.conf"))
            .args(["-s", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The configuration: no logging of requests, HTTP/1.1 with kept-alive connections to the backend, temporary
/// files inside `dir` (nginx's defaults are under /var, which a user may not write).
fn config(dir: &Path, upstream: &str, port: u16, cpus: &[usize]) -> String {
    let d = dir.display();
    let workers = if cpus.is_empty() {
        "worker_processes 2;".to_string()
    } else {
        // One mask per worker, CPU 0 rightmost.
        let masks: Vec<String> = cpus
            .iter()
            .map(|c| format!("1{}", "0".repeat(*c)))
            .collect();
        format!(
            "worker_processes {};\nworker_cpu_affinity {};",
            cpus.len(),
            masks.join(" ")
        )
    };
    format!(
        r#"daemon off;
{workers}
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream backend {{
        server {upstream};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"#
    )
}

/// A port nothing listens on now (bound, then let go).
pub(super) fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_workers_get_one_cpu_mask_each() {
        let c = config(Path::new("/tmp/x"), "127.0.0.1:9", 8080, &[1, 3]);
        assert!(
            c.contains("worker_processes 2;\nworker_cpu_affinity 10 1000;"),
            "{c}"
        );
        assert!(c.contains("server 127.0.0.1:9;"));
        assert!(c.contains("listen 127.0.0.1:8080;"));
    }

    /// The processes whose parent is `pid`.
    fn children(pid: u32) -> Vec<u32> {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|p| {
                // `pid (comm) state ppid ...`; comm may hold spaces, so split after its closing parenthesis.
                std::fs::read_to_string(format!("/proc/{p}/stat"))
                    .ok()
                    .and_then(|stat| {
                        let rest = &stat[stat.rfind(')')? + 1..];
                        rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                    })
                    == Some(pid)
            })
            .collect()
    }

    #[test]
    fn a_stopped_nginx_leaves_no_worker_behind() {
        if binary().is_none() {
            eprintln!("no nginx binary: skipped (.ci/run installs nginx-light)");
            return;
        }
        let nginx = Nginx::start("http://127.0.0.1:9", &[])
            .expect("starts")
            .expect("found");
        let master = nginx.child.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut workers = children(master);
        while workers.len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            workers = children(master);
        }
        assert_eq!(workers.len(), 2, "two workers under the master {master}");
        drop(nginx);
        let gone = |p: &u32| !Path::new(&format!("/proc/{p}")).exists();
        while !workers.iter().all(gone) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            workers.iter().all(gone),
            "workers {workers:?} outlived their nginx"
        );
    }
}
