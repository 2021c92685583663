//! The one line a connector logs when it is ready: every listener with its URL (so an operator sees at once which
//! port is which and whether it speaks http or https) and where its state is kept (the storage location, never a
//! password).

use std::net::SocketAddr;

/// What a started connector serves, as the assembly bound it.
#[derive(Debug, Clone)]
pub struct Started<'a> {
    pub participant: &'a str,
    /// `http` or `https`, the same for every listener.
    pub scheme: &'a str,
    /// The public listener: DSP, the provider's data plane and the open catalogue.
    pub public: SocketAddr,
    pub dsp_path: &'a str,
    pub data_path: &'a str,
    pub management: SocketAddr,
    /// The consumer's local data endpoint for the city's own applications.
    pub local: SocketAddr,
    pub storage_url: &'a str,
}

impl Started<'_> {
    /// Every field of the line, in the order it is written.
    pub fn fields(&self) -> [(&'static str, String); 6] {
        let url = |addr: &SocketAddr, path: &str| format!("{}://{addr}{path}", self.scheme);
        [
            ("dsp", url(&self.public, self.dsp_path)),
            ("data_plane", url(&self.public, self.data_path)),
            ("management", url(&self.management, "")),
            ("local", url(&self.local, "")),
            ("storage", crate::storage::location(self.storage_url)),
            ("participant", self.participant.to_string()),
        ]
    }

    pub fn log(&self) {
        let [dsp, data_plane, management, local, storage, participant] =
            self.fields().map(|(_, v)| v);
        tracing::info!(
            %dsp, %data_plane, %management, %local, %storage, %participant,
            "twinport started"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_every_listener_with_its_scheme_and_hides_the_password() {
        let started = Started {
            participant: "https://city-a.example/twinport",
            scheme: "https",
            public: "0.0.0.0:8080".parse().unwrap(),
            dsp_path: "/dsp/2025-1",
            data_path: "/data",
            management: "127.0.0.1:8081".parse().unwrap(),
            local: "127.0.0.1:8082".parse().unwrap(),
            storage_url: "postgres://twinport:hunter22@db:5432/twinport",
        };
        let fields = started.fields();
        let get = |k: &str| fields.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("dsp"), "https://0.0.0.0:8080/dsp/2025-1");
        assert_eq!(get("data_plane"), "https://0.0.0.0:8080/data");
        assert_eq!(get("management"), "https://127.0.0.1:8081");
        assert_eq!(get("local"), "https://127.0.0.1:8082");
        assert_eq!(get("storage"), "postgres twinport@db:5432/twinport");
        assert!(fields.iter().all(|(_, v)| !v.contains("hunter22")));
    }
}
