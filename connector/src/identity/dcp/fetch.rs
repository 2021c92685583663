//! Fetching what DCP verification needs from other hosts (DID documents, status lists, presentations) and keeping
//! it as long as its `Cache-Control` allows, never longer than the configured bound. The test-only host map of
//! `[dcp] resolve` rewrites a URL's origin here and nowhere else, so production code paths fetch exactly what the
//! identifiers name.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use reqwest::header::CACHE_CONTROL;

/// Largest body read from a DID document, status list or presentation response.
pub const MAX_BODY: usize = 1024 * 1024;
/// How long one fetch may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Entries kept per cache before the expired ones are swept.
const SWEEP_AT: usize = 4096;

/// The outgoing side: an HTTP client and the (test-only) origin map.
#[derive(Debug, Clone)]
pub struct Fetcher {
    http: reqwest::Client,
    /// Authority (`host[:port]`) → base URL it is fetched from instead.
    resolve: Arc<RwLock<BTreeMap<String, String>>>,
}

/// A body fetched, and how long it may be reused.
pub struct Fetched {
    pub body: Vec<u8>,
    pub fresh_for: Duration,
}

impl Fetcher {
    pub fn new(http: reqwest::Client, resolve: BTreeMap<String, String>) -> Fetcher {
        Fetcher {
            http,
            resolve: Arc::new(RwLock::new(resolve)),
        }
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

    /// The URL actually requested for `url`: its origin replaced when the test map names it.
    pub fn target(&self, url: &str) -> Result<String, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("{url:?} is not an http(s) URL"));
        }
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        let authority = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        let mapped = self
            .resolve
            .read()
            .ok()
            .and_then(|m| m.get(&authority).cloned());
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

    /// GETs `url`, accepting only a 2xx answer of at most [`MAX_BODY`] bytes.
    pub async fn get(&self, url: &str, max_age: Duration) -> Result<Fetched, String> {
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
        let body = read_limited(response, url).await?;
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
        Ok((status, read_limited(response, url).await?))
    }
}

async fn read_limited(mut response: reqwest::Response, url: &str) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading {url}: {}", without_url(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("{url} sent more than {MAX_BODY} bytes"));
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
                if entries.len() >= SWEEP_AT {
                    entries.clear();
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
    fn cached_entries_expire() {
        let c: Cache<u32> = Cache::default();
        c.put("a", 1, Duration::from_secs(60));
        c.put("b", 2, Duration::ZERO);
        assert_eq!(c.get("a"), Some(1));
        assert_eq!(c.get("b"), None);
    }
}
