//! `path_checks`: any text as the request target a partner sends (`path?query`), through the two checks that
//! stand between it and the platforms behind the connector: the listener guard every request passes first, and the
//! data plane's segment decoding that decides which file or backend path is reached. What the guard lets through
//! must be storable and loggable text; what the decoder lets through must stay below the data address.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request};
use twinport::dataplane::backend::{decoded_segments, Backend, BackendRequest, Forwarded};
use twinport::server::guard;

/// Checks `data` as a request target, and its path as the part below a data address.
pub fn path_checks(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, query) = match text.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (text, None),
    };
    let segments = decoded_segments(path).ok();
    if let Some(segments) = &segments {
        for s in segments {
            assert_safe_segment(s, path);
        }
    }
    directory_backend(path, query, segments.is_some());
    http_backend(path, query);

    let Ok(request) = Request::builder().uri(text).body(Body::empty()) else {
        return;
    };
    if guard::check(&request).is_err() {
        return;
    }
    let uri = request.uri();
    for segment in uri.path().split('/') {
        if let Some(decoded) = strict_decode(segment) {
            assert!(
                !decoded.chars().any(char::is_control),
                "the guard let a control character through in the path {:?}",
                uri.path()
            );
        }
    }
    if let Some(query) = uri.query() {
        for pair in query.split('&') {
            if let Some(decoded) = strict_decode(pair) {
                assert!(
                    !decoded.chars().any(char::is_control),
                    "the guard let a control character through in the query {query:?}"
                );
            }
        }
    }
    // The data plane decodes the path again, its own way; a guarded path must not decode to a control
    // character there either, or the guard's promise does not hold for what reaches a backend.
    if let Ok(segments) = decoded_segments(uri.path()) {
        for s in &segments {
            assert!(
                !s.chars().any(char::is_control),
                "the guard passed {:?}, which the data plane decodes to the segment {s:?}",
                uri.path()
            );
        }
    }
}

/// A segment the data plane accepted joins a directory as exactly one ordinary file name.
fn assert_safe_segment(s: &str, path: &str) {
    assert!(
        !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0']),
        "{path:?} decodes to the unsafe segment {s:?}"
    );
    let root = Path::new("/srv/data");
    let joined: PathBuf = root.join(s);
    let below: Vec<Component<'_>> = joined
        .strip_prefix(root)
        .map(|p| p.components().collect())
        .unwrap_or_default();
    assert!(
        matches!(below.as_slice(), [Component::Normal(_)]),
        "{path:?}: the segment {s:?} is not one file name below the root"
    );
}

/// The file store reaches the disk only after `prepare`; `prepare` must refuse exactly what the decoder refuses.
fn directory_backend(path: &str, query: Option<&str>, decodes: bool) {
    let backend = Backend::Directory {
        root: PathBuf::from("/srv/data"),
    };
    let prepared = backend.prepare(request(path, query));
    assert_eq!(
        prepared.is_ok(),
        decodes,
        "the file store and the path decoder disagree on {path:?}"
    );
}

/// A generic HTTP backend: the partner's path and query are appended to the base URL without a panic.
fn http_backend(path: &str, query: Option<&str>) {
    let Ok(base) = url::Url::parse("https://platform.city-a.example/api/v1/?key=operator") else {
        return;
    };
    let backend = Backend::Http {
        base,
        credentials: None,
    };
    let _ = backend.prepare(request(path, query));
}

fn request(path: &str, query: Option<&str>) -> BackendRequest {
    BackendRequest {
        method: Method::GET,
        path: path.to_string(),
        query: query.map(str::to_string),
        headers: HeaderMap::new(),
        body: None,
        forwarded: Forwarded::default(),
    }
}

/// RFC 3986 percent-decoding, written independently of both decoders under test: `%` with two hex digits is a
/// byte, anything else is itself; `None` when the bytes are not UTF-8.
fn strict_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if let (b'%', Some(h), Some(l)) = (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            out.push(u8::try_from(h * 16 + l).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
