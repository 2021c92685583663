//! `config`: any text read as `twinport.toml` by the connector's pure reader (TOML, environment overrides,
//! validation; nothing is bound, fetched or opened). An operator's typo must end in an error naming the key, never
//! in a crash at start-up, and the same file must always get the same answer.

use std::path::Path;

use twinport::config::Config;

/// Relative paths in the file resolve against this directory; it does not exist, and validation never opens it.
const BASE: &str = "/nonexistent/twinport-fuzz";

/// Reads `data` as a configuration file, without and with the environment a container deployment sets.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = Path::new(BASE);
    read_twice(text, base, &[]);
    let vars: Vec<(String, String)> = [
        ("TWINPORT_PARTICIPANT_ID", "https://city-a.example/twinport"),
        ("TWINPORT_PUBLIC_URL", "https://twinport.city-a.example"),
        ("TWINPORT_LISTEN", "0.0.0.0:8080"),
        ("TWINPORT_TLS_MUTUAL", "true"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    read_twice(text, base, &vars);
}

fn read_twice(text: &str, base: &Path, vars: &[(String, String)]) {
    let first = Config::from_toml(text, base, vars)
        .map(|_| ())
        .map_err(|e| e.to_string());
    let second = Config::from_toml(text, base, vars)
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert_eq!(
        first, second,
        "the same file read twice gives different answers"
    );
}
