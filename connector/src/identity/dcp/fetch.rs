//! Fetching what DCP verification needs from other hosts (DID documents, status lists, presentations) and keeping
//! it as long as its `Cache-Control` allows, never longer than the configured bound. The test-only host map of
//! `[dcp] resolve` rewrites a URL's origin here and nowhere else, so production code paths fetch exactly what the
//! identifiers name.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use reqwest::header::CACHE_CONTROL;

/// Largest body read from a status list or presentation response.
pub const MAX_BODY: usize = 1024 * 1024;
/// Largest DID document read: a few keys and services fit many times over, and kept documents stay small.
pub const MAX_DID_DOCUMENT: usize = 64 * 1024;
/// How long one fetch may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Entries kept per cache before the expired ones are swept.
const SWEEP_AT: usize = 4096;

/// The outgoing side: an HTTP client that follows no redirects (and, unless private networks are allowed,
/// resolves names to public addresses only), the rules on what may be fetched at all, and the (test-only) origin
/// map.
#[derive(Debug, Clone)]
pub struct Fetcher {
    http: reqwest::Client,
    /// Authority (`host[:port]`) → base URL it is fetched from instead.
    resolve: Arc<RwLock<BTreeMap<String, String>>>,
    /// Hosts that may be fetched over plain HTTP (test only).
    insecure_http_hosts: Vec<String>,
    /// Whether IP literals, and names that resolve to loopback, private or link-local addresses, may be fetched.
    allow_private_networks: bool,
}

/// A body fetched, and how long it may be reused.
pub struct Fetched {
    pub body: Vec<u8>,
    pub fresh_for: Duration,
}

impl Fetcher {
    pub fn new(
        http: reqwest::Client,
        resolve: BTreeMap<String, String>,
        insecure_http_hosts: Vec<String>,
        allow_private_networks: bool,
    ) -> Fetcher {
        Fetcher {
            http,
            resolve: Arc::new(RwLock::new(resolve)),
            insecure_http_hosts,
            allow_private_networks,
        }
    }

    /// Whether `host` may be fetched over plain HTTP (test only).
    pub fn is_insecure_host(&self, host: &str) -> bool {
        self.insecure_http_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether `url` is one a test maps or lets through over HTTP.
    pub fn is_insecure_test_url(&self, url: &url::Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        self.is_insecure_host(host) || self.mapped(&authority_of(url)).is_some()
    }

    fn mapped(&self, authority: &str) -> Option<String> {
        self.resolve
            .read()
            .ok()
            .and_then(|m| m.get(authority).cloned())
    }

    /// Adds to the test-only origin map (a test learns a connector's port only once it listens).
    pub fn map_origin(&self, authority: &str, base: &str) {
        if let Ok(mut m) = self.resolve.write() {
            m.insert(
                authority.to_ascii_lowercase(),
                base.trim_end_matches('/').to_string(),
            );
        }
    }

    /// The URL actually requested for `url`: its origin replaced when the test map names it. Refused: anything
    /// but `https` (plain `http` only for test hosts, or IP literals on private networks when allowed), user info,
    /// and IP literals unless private networks are allowed (a partner's document must not make us call our
    /// neighbours).
    pub fn target(&self, url: &str) -> Result<String, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        let mapped = self.mapped(&authority_of(&parsed));
        let ip_literal = matches!(
            parsed.host(),
            Some(url::Host::Ipv4(_)) | Some(url::Host::Ipv6(_))
        );
        let test_host =
            mapped.is_some() || self.is_insecure_host(parsed.host_str().unwrap_or_default());
        match parsed.scheme() {
            "https" => {}
            "http" if test_host || (self.allow_private_networks && ip_literal) => {}
            _ => return Err(format!("{url} is not an https URL")),
        }
        if parsed.host().is_none() || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(format!("{url} names no plain host"));
        }
        if ip_literal && mapped.is_none() && !self.allow_private_networks {
            return Err(format!(
                "{url} names an IP address (allowed only with allow_private_networks)"
            ));
        }
        Ok(match mapped {
            Some(base) => {
                let mut rest = parsed.path().to_string();
                if let Some(q) = parsed.query() {
                    rest.push('?');
                    rest.push_str(q);
                }
                format!("{base}{rest}")
            }
            None => url.to_string(),
        })
    }

    /// GETs `url`, accepting only a 2xx answer of at most `max_body` bytes.
    pub async fn get(
        &self,
        url: &str,
        max_age: Duration,
        max_body: usize,
    ) -> Result<Fetched, String> {
        let target = self.target(url)?;
        let response = self
            .http
            .get(&target)
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {}", without_url(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("{url} answered HTTP {status}"));
        }
        let fresh_for = cache_lifetime(response.headers(), max_age);
        let body = read_limited(response, url, max_body).await?;
        Ok(Fetched { body, fresh_for })
    }

    /// POSTs JSON with a bearer token; the answer's status and body (at most [`MAX_BODY`] bytes).
    pub async fn post_json(
        &self,
        url: &str,
        bearer: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, Vec<u8>), String> {
        let target = self.target(url)?;
        let response = self
            .http
            .post(&target)
            .bearer_auth(bearer)
            .json(body)
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("cannot reach {url}: {}", without_url(&e)))?;
        let status = response.status().as_u16();
        Ok((status, read_limited(response, url, MAX_BODY).await?))
    }
}

async fn read_limited(
    mut response: reqwest::Response,
    url: &str,
    max_body: usize,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading {url}: {}", without_url(&e)))?
    {
        if body.len() + chunk.len() > max_body {
            return Err(format!("{url} sent more than {max_body} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest repeats the (possibly rewritten) URL in its messages; ours name the URL once, as the identifier gave it.
fn without_url(e: &reqwest::Error) -> String {
    let mut message = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_decode() || e.is_body() {
        "bad response body"
    } else {
        "request failed"
    }
    .to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// `host[:port]` of a URL, lowercase, as the test map keys it.
fn authority_of(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// A DNS resolver that answers only public addresses: a name that resolves to loopback, private, link-local,
/// shared or unspecified addresses is not fetched (a partner's DID document could otherwise point us at the
/// city's internal services).
#[derive(Debug, Default)]
pub struct PublicAddresses;

impl reqwest::dns::Resolve for PublicAddresses {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether an address is on the public internet.
pub fn is_public(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || o[0] >= 240
                // 100.64.0.0/10, carrier-grade NAT (shared address space)
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                // 192.0.0.0/24 (IETF protocol assignments), 198.18.0.0/15 (benchmarking)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18))
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            // Forms that carry an IPv4 address: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64
            // (64:ff9b::/96, 64:ff9b:1::/48) and 6to4 (2002::/16) are judged by that address.
            let low = std::net::Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32);
            let compatible =
                s[..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && !v6.is_unspecified();
            let nat64 = s[0] == 0x64 && s[1] == 0xff9b && (s[2..6] == [0, 0, 0, 0] || s[2] == 1);
            let embedded = if let Some(v4) = v6.to_ipv4_mapped() {
                Some(v4)
            } else if compatible || nat64 {
                Some(low)
            } else if s[0] == 0x2002 {
                Some(std::net::Ipv4Addr::from(
                    ((s[1] as u32) << 16) | s[2] as u32,
                ))
            } else {
                None
            };
            if let Some(v4) = embedded {
                return is_public(std::net::IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local (deprecated)
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0)
        }
    }
}

/// `max-age` from `Cache-Control` (less `Age`), bounded by `max`; `no-store`/`no-cache` mean do not reuse.
pub fn cache_lifetime(headers: &reqwest::header::HeaderMap, max: Duration) -> Duration {
    let Some(cc) = headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()) else {
        return max;
    };
    let mut lifetime = max;
    for directive in cc.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Duration::ZERO;
        }
        if let Some(n) = lower.strip_prefix("max-age=") {
            match n.trim_matches('"').parse::<u64>() {
                Ok(secs) => lifetime = lifetime.min(Duration::from_secs(secs)),
                Err(_) => return Duration::ZERO,
            }
        }
    }
    let age = headers
        .get(reqwest::header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    lifetime.saturating_sub(Duration::from_secs(age))
}

/// A small time-bounded cache keyed by URL or DID.
pub struct Cache<T> {
    entries: Mutex<HashMap<String, (T, Instant)>>,
}

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Cache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> Cache<T> {
    pub fn get(&self, key: &str) -> Option<T> {
        let entries = self.entries.lock().ok()?;
        let (value, until) = entries.get(key)?;
        (Instant::now() < *until).then(|| value.clone())
    }

    pub fn put(&self, key: &str, value: T, fresh_for: Duration) {
        if fresh_for.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= SWEEP_AT {
                let now = Instant::now();
                entries.retain(|_, (_, until)| *until > now);
                // Still full of live entries: the newcomer is not kept, rather than evicting partners' documents
                // (a flood of made-up DIDs must not push out the real ones).
                if entries.len() >= SWEEP_AT {
                    return;
                }
            }
            entries.insert(key.to_string(), (value, Instant::now() + fresh_for));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, AGE};

    fn headers(cc: &str, age: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CACHE_CONTROL, HeaderValue::from_str(cc).unwrap());
        if let Some(a) = age {
            h.insert(AGE, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn cache_lifetime_follows_the_headers_within_the_bound() {
        let max = Duration::from_secs(300);
        assert_eq!(cache_lifetime(&HeaderMap::new(), max), max);
        assert_eq!(
            cache_lifetime(&headers("public, max-age=60", None), max),
            Duration::from_secs(60)
        );
        assert_eq!(cache_lifetime(&headers("max-age=86400", None), max), max);
        assert_eq!(
            cache_lifetime(&headers("max-age=60", Some("20")), max),
            Duration::from_secs(40)
        );
        assert_eq!(
            cache_lifetime(&headers("no-store", None), max),
            Duration::ZERO
        );
        assert_eq!(
            cache_lifetime(&headers("max-age=60, no-cache", None), max),
            Duration::ZERO
        );
        assert_eq!(
            cache_lifetime(&headers("max-age=soon", None), max),
            Duration::ZERO
        );
    }

    #[test]
    fn the_test_map_rewrites_only_the_origins_it_names() {
        let f = Fetcher::new(
            reqwest::Client::new(),
            [(
                "city-b.test".to_string(),
                "http://127.0.0.1:9000".to_string(),
            )]
            .into(),
            vec!["localhost".into()],
            false,
        );
        assert_eq!(
            f.target("https://city-b.test/.well-known/did.json?x=1")
                .unwrap(),
            "http://127.0.0.1:9000/.well-known/did.json?x=1"
        );
        assert_eq!(
            f.target("https://city-c.test/did.json").unwrap(),
            "https://city-c.test/did.json"
        );
        assert!(f.target("file:///etc/passwd").is_err());
        assert!(f.target("not a url").is_err());
    }

    #[test]
    fn what_a_partner_s_document_names_cannot_reach_our_network() {
        let strict = Fetcher::new(
            reqwest::Client::new(),
            Default::default(),
            vec!["localhost".into()],
            false,
        );
        for url in [
            "http://city-c.example/dcp",
            "https://127.0.0.1/dcp",
            "https://127.1/dcp",
            "https://2130706433/dcp",
            "https://[::1]/dcp",
            "https://169.254.169.254/latest/meta-data",
            "https://user:pw@city-c.example/dcp",
            "gopher://city-c.example/",
        ] {
            assert!(strict.target(url).is_err(), "{url}");
        }
        assert!(strict.target("http://localhost:4711/did.json").is_ok());
        assert!(strict.target("https://city-c.example/dcp").is_ok());
        let private = Fetcher::new(reqwest::Client::new(), Default::default(), Vec::new(), true);
        assert!(private.target("http://10.0.0.7:8080/dcp").is_ok());
        assert!(private.target("http://city-c.example/dcp").is_err());
        for (ip, public) in [
            ("8.8.8.8", true),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.1.1", false),
            ("127.0.0.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("2001:4860:4860::8888", true),
            ("::1", false),
            ("fd00::1", false),
            ("fe80::1", false),
            ("::ffff:10.0.0.1", false),
            ("::10.0.0.1", false),
            ("64:ff9b::a9fe:a9fe", false),
            ("2002:0a00:0001::1", false),
            ("2002:0808:0808::1", true),
            ("fec0::1", false),
            ("ff02::1", false),
            ("198.18.0.1", false),
            ("192.0.0.8", false),
            ("224.0.0.1", false),
            ("240.0.0.1", false),
        ] {
            assert_eq!(is_public(ip.parse().unwrap()), public, "{ip}");
        }
    }

    #[test]
    fn cached_entries_expire() {
        let c: Cache<u32> = Cache::default();
        c.put("a", 1, Duration::from_secs(60));
        c.put("b", 2, Duration::ZERO);
        assert_eq!(c.get("a"), Some(1));
        assert_eq!(c.get("b"), None);
    }
}
