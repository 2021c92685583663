//! The did:web method (w3c-ccg did-method-web): `did:web:<host>[%3A<port>][:<path>...]` names the document at
//! `https://<host>[:<port>]/<path>.../did.json`, or `https://<host>[:<port>]/.well-known/did.json` without a path.
//! The reverse builds the DID a connector publishes for its own public URL.

use super::DidError;

const PREFIX: &str = "did:web:";

/// A parsed `did:web` identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidWeb {
    did: String,
    host: String,
    port: Option<u16>,
    path: Vec<String>,
}

impl DidWeb {
    /// Parses `did`, refusing anything but a host name (optionally with a port) and plain path segments: no IP
    /// literal brackets, user info, query, fragment or empty segment can reach the URL built from it.
    pub fn parse(did: &str) -> Result<DidWeb, DidError> {
        let rest = did
            .strip_prefix(PREFIX)
            .ok_or_else(|| DidError::NotDidWeb(did.chars().take(100).collect()))?;
        let bad = |why: &str| DidError::Malformed {
            did: did.chars().take(200).collect(),
            why: why.to_string(),
        };
        let mut parts = rest.split(':');
        let authority = parts.next().unwrap_or_default();
        let (host, port) = match authority
            .split_once("%3A")
            .or_else(|| authority.split_once("%3a"))
        {
            Some((host, port)) => {
                let port: u16 = port
                    .parse()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
                (host, Some(port))
            }
            None => (authority, None),
        };
        if host.is_empty() || host.len() > 253 {
            return Err(bad("no host"));
        }
        let host_ok = host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !host_ok {
            return Err(bad("the host is not a domain name"));
        }
        let path: Vec<String> = parts.map(str::to_string).collect();
        for segment in &path {
            if segment.is_empty() {
                return Err(bad("an empty path segment"));
            }
            let plain = segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~%!$&'()*+,;=@".contains(c));
            if !plain || segment == "." || segment == ".." {
                return Err(bad("a path segment that is not a plain URL path segment"));
            }
        }
        Ok(DidWeb {
            did: did.to_string(),
            host: host.to_ascii_lowercase(),
            port,
            path,
        })
    }

    /// The DID a connector publishes for its public URL (`https://host[:port][/path]`): the host, the port if any,
    /// then each path segment.
    pub fn for_url(url: &url::Url) -> Result<DidWeb, DidError> {
        let host = url
            .host_str()
            .ok_or_else(|| DidError::NotDidWeb(format!("{url} has no host")))?;
        let mut did = format!("{PREFIX}{host}");
        if let Some(port) = url.port() {
            did.push_str(&format!("%3A{port}"));
        }
        for segment in url.path().split('/').filter(|s| !s.is_empty()) {
            did.push(':');
            did.push_str(segment);
        }
        DidWeb::parse(&did)
    }

    pub fn as_str(&self) -> &str {
        &self.did
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// True when the host is an IP address in any form a URL parser accepts (`127.0.0.1`, `127.1`,
    /// `2130706433`, `0x7f.1`), which did:web forbids (a certificate names hosts).
    pub fn host_is_ip(&self) -> bool {
        self.host.parse::<std::net::Ipv4Addr>().is_ok()
            || matches!(
                url::Url::parse(&format!("https://{}/", self.host))
                    .map(|u| u.host().map(|h| h.to_owned())),
                Ok(Some(url::Host::Ipv4(_))) | Ok(Some(url::Host::Ipv6(_)))
            )
    }

    /// The host with its port when the DID names one (`city.example:8443`): what a resolver maps.
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// The document's path on that host: `/.well-known/did.json`, or `/<path>/did.json` for a DID with a path.
    pub fn document_path(&self) -> String {
        if self.path.is_empty() {
            "/.well-known/did.json".to_string()
        } else {
            format!("/{}/did.json", self.path.join("/"))
        }
    }

    /// Where the document is: `https://` (or `http://` when `https` is false, for development only).
    pub fn document_url(&self, https: bool) -> String {
        let scheme = if https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority(), self.document_path())
    }
}

impl std::fmt::Display for DidWeb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.did)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_an_ip_address_is_an_ip_address() {
        for did in [
            "did:web:127.0.0.1",
            "did:web:127.1",
            "did:web:2130706433",
            "did:web:0x7f.1",
        ] {
            assert!(DidWeb::parse(did).unwrap().host_is_ip(), "{did}");
        }
        assert!(!DidWeb::parse("did:web:city-a.example")
            .unwrap()
            .host_is_ip());
    }

    #[test]
    fn the_method_specifications_examples_resolve_to_their_urls() {
        for (did, url) in [
            (
                "did:web:w3c-ccg.github.io",
                "https://w3c-ccg.github.io/.well-known/did.json",
            ),
            (
                "did:web:w3c-ccg.github.io:user:alice",
                "https://w3c-ccg.github.io/user/alice/did.json",
            ),
            (
                "did:web:example.com%3A3000:user:alice",
                "https://example.com:3000/user/alice/did.json",
            ),
            // As the DCP TCK and EDC's Minimum Viable Dataspace name their participants.
            (
                "did:web:localhost%3A4711:holder",
                "https://localhost:4711/holder/did.json",
            ),
            (
                "did:web:identityhub.provider.svc.cluster.local%3A7083:provider",
                "https://identityhub.provider.svc.cluster.local:7083/provider/did.json",
            ),
        ] {
            assert_eq!(DidWeb::parse(did).unwrap().document_url(true), url, "{did}");
        }
        assert_eq!(
            DidWeb::parse("did:web:localhost%3A4711:holder")
                .unwrap()
                .document_url(false),
            "http://localhost:4711/holder/did.json"
        );
    }

    #[test]
    fn a_public_url_gives_the_did_that_resolves_back_to_it() {
        for (url, did) in [
            ("https://city-a.example", "did:web:city-a.example"),
            (
                "https://city-a.example/twinport",
                "did:web:city-a.example:twinport",
            ),
            (
                "https://city-a.example:8443/ldt/twinport/",
                "did:web:city-a.example%3A8443:ldt:twinport",
            ),
        ] {
            let d = DidWeb::for_url(&url::Url::parse(url).unwrap()).unwrap();
            assert_eq!(d.as_str(), did);
            assert!(d.document_url(true).starts_with(url.trim_end_matches('/')));
        }
    }

    #[test]
    fn anything_that_could_steer_the_fetch_elsewhere_is_refused() {
        for did in [
            "did:key:z6Mk",
            "did:web:",
            "did:web:example.com%3A",
            "did:web:example.com%3A99999",
            "did:web:example.com%3Aabc",
            "did:web:user@example.com",
            "did:web:example.com:path?x=1",
            "did:web:example.com:path#frag",
            "did:web:example.com::alice",
            "did:web:example.com:..",
            "did:web:example.com:a/b",
            "did:web:[::1]",
            "did:web:-bad.example",
            "did:web:exa mple.com",
        ] {
            assert!(DidWeb::parse(did).is_err(), "{did} accepted");
        }
        assert!(DidWeb::parse("did:web:127.0.0.1%3A8080")
            .unwrap()
            .host_is_ip());
        assert!(!DidWeb::parse("did:web:localhost").unwrap().host_is_ip());
    }
}
