//! Who may call the local endpoint. It asks no credentials (the city's applications use the transfer's token
//! without ever holding it), so a web page open in a city employee's browser must not be able to use it: through
//! DNS rebinding (its own host name resolving to the endpoint's address) or through a cross-site request the
//! browser sends without asking (a `text/plain` POST, an image, a link). Every request is judged here before it is
//! relayed or recorded: its `Host` must be one of `local_hosts`, and a browser request from another origin must
//! come from one of `local_allowed_origins`, which then gets proper CORS answers. Requests without `Origin` and
//! `Sec-Fetch-*` (servers, scripts, notebooks) are not browsers' cross-site requests and pass.

use std::net::{IpAddr, Ipv6Addr};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::dataplane::problem::Refusal;
use crate::dataplane::DataPlaneState;

/// The methods a page of an allowed origin may use; they are all the local endpoint relays for an NGSI-LD or
/// file backend.
const CORS_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";

/// Response headers a page of an allowed origin may read besides the CORS-safelisted ones: the request id (to
/// match the audit entry), NGSI-LD paging and context, what a write or a range answers with, and whether a model
/// ran at once or as a job (`preference-applied`, with the job in `location`).
const CORS_EXPOSED: &str =
    "twinport-request-id, link, location, etag, content-range, ngsild-results-count, \
     preference-applied";

/// How long a browser may reuse a preflight answer; short, so removing an origin takes effect soon.
const CORS_MAX_AGE_SECONDS: &str = "600";

const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// A request the guard lets through, and whether its answer needs CORS headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Not a browser's cross-origin request: a server-side client, a typed URL, or a same-origin fetch.
    Direct,
    /// A page of an allowed origin, named exactly as the browser sent it (the browser compares byte for byte).
    AllowedOrigin(HeaderValue),
}

/// Decides whether a request may reach the local endpoint: the host first (a rebound name is refused whatever
/// else it says), then the browser's cross-site signals.
pub fn judge(
    uri: &Uri,
    headers: &HeaderMap,
    local_hosts: &[String],
    allowed_origins: &[String],
) -> Result<Caller, Refusal> {
    check_host(uri, headers, local_hosts)?;
    check_origin(headers, allowed_origins)
}

/// RFC 9112 section 3.2 asks for 400 when `Host` is missing, repeated or malformed. A well-formed name we do not
/// serve is 421 (RFC 9110 section 15.5.20): the request was directed at a server that is not authoritative for
/// that URI, which is exactly what DNS rebinding produces; 403 would claim we serve that name and forbid it.
fn check_host(uri: &Uri, headers: &HeaderMap, local_hosts: &[String]) -> Result<(), Refusal> {
    let mut values = headers.get_all(header::HOST).iter();
    let host_header = values.next();
    if values.next().is_some() {
        return Err(Refusal::bad_request(
            "the request has more than one Host header",
        ));
    }
    // An absolute request target (or an HTTP/2 `:authority`) overrides `Host` for the server, so it is judged
    // too: both must name this endpoint.
    let mut named = Vec::new();
    if let Some(value) = host_header {
        named.push(value.to_str().ok().and_then(host_of).ok_or_else(|| {
            Refusal::bad_request(
                "the Host header is not a host name or IP address with an optional port",
            )
        })?);
    }
    if let Some(authority) = uri.authority() {
        named.push(host_of(authority.as_str()).ok_or_else(|| {
            Refusal::bad_request("the request target's authority is not a host name or IP address")
        })?);
    }
    if named.is_empty() {
        return Err(Refusal::bad_request("the request has no Host header"));
    }
    match named
        .into_iter()
        .find(|h| !local_hosts.iter().any(|l| same_host(l, h)))
    {
        None => Ok(()),
        Some(foreign) => Err(Refusal::new(
            StatusCode::MISDIRECTED_REQUEST,
            "misdirected-request",
            format!(
                "the local endpoint does not answer to the host name {foreign:?}; call it by one of the names in \
                 local_hosts"
            ),
        )),
    }
}

/// The host part of `host[:port]` or `[ipv6][:port]`, lowercase, IPv6 without brackets and in canonical form;
/// `None` for anything else (user info, an unbracketed IPv6 address, a bad port, stray characters).
fn host_of(authority: &str) -> Option<String> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (inside, rest) = bracketed.split_once(']')?;
            let port = if rest.is_empty() {
                ""
            } else {
                rest.strip_prefix(':')?
            };
            (inside.parse::<Ipv6Addr>().ok()?.to_string(), port)
        }
        None => {
            let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
            (host.to_ascii_lowercase(), port)
        }
    };
    if port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // `localhost.` is the fully qualified spelling of `localhost`; dropping the dot cannot turn a foreign name
    // into one of ours.
    let host = host.strip_suffix('.').unwrap_or(&host);
    let well_formed = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    well_formed.then(|| host.to_string())
}

/// Host names compare case-insensitively; IP addresses by value, so `::1` in the list matches `[0:0::1]`.
fn same_host(listed: &str, asked: &str) -> bool {
    if listed.eq_ignore_ascii_case(asked) {
        return true;
    }
    match (listed.parse::<IpAddr>(), asked.parse::<IpAddr>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A browser names the page's origin on every cross-origin request and on every non-GET one, and modern browsers
/// say with `Sec-Fetch-Site` where any request comes from. No page of the local endpoint's own origin is meant to
/// exist (it serves no pages; relayed documents are sandboxed, see the proxy), so its own origin is no exception:
/// only origins in `local_allowed_origins` pass.
fn check_origin(headers: &HeaderMap, allowed_origins: &[String]) -> Result<Caller, Refusal> {
    let mut origins = headers.get_all(header::ORIGIN).iter();
    if let Some(origin) = origins.next() {
        if origins.next().is_some() {
            return Err(cross_site(
                "the request has more than one Origin header".into(),
            ));
        }
        let allowed = origin
            .to_str()
            .is_ok_and(|o| allowed_origins.iter().any(|a| a.eq_ignore_ascii_case(o)));
        if allowed {
            return Ok(Caller::AllowedOrigin(origin.clone()));
        }
        return Err(cross_site(format!(
            "pages of origin {:?} may not call the local endpoint; an operator can allow a dashboard's origin \
             in local_allowed_origins",
            String::from_utf8_lossy(origin.as_bytes())
        )));
    }
    let mut sites = headers.get_all(SEC_FETCH_SITE).iter();
    match (sites.next(), sites.next()) {
        (None, _) => Ok(Caller::Direct),
        // `none`: the user typed the URL or opened a bookmark; `same-origin`: see above, no such page exists.
        (Some(site), None) if matches!(site.as_bytes(), b"none" | b"same-origin") => {
            Ok(Caller::Direct)
        }
        // cross-site, same-site (another port or subdomain is another origin) and anything unknown.
        (Some(site), _) => Err(cross_site(format!(
            "a browser request from another site (Sec-Fetch-Site: {:?}) without an allowed Origin",
            String::from_utf8_lossy(site.as_bytes())
        ))),
    }
}

fn cross_site(detail: String) -> Refusal {
    Refusal::new(StatusCode::FORBIDDEN, "cross-site-request", detail)
}

/// The middleware in front of every route of the local listener, the fallback included.
pub async fn guard(State(state): State<DataPlaneState>, req: Request, next: Next) -> Response {
    let config = state.settings();
    let caller = match judge(
        req.uri(),
        req.headers(),
        &config.local_hosts,
        &config.local_allowed_origins,
    ) {
        Ok(caller) => caller,
        Err(refusal) => {
            // Not a data access (nothing was relayed), so not in the audit log; but a refused browser request
            // means a page tried to use the endpoint, which an operator wants to hear about.
            let text = |name: &str| {
                req.headers()
                    .get(name)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            };
            tracing::warn!(
                status = refusal.status.as_u16(),
                method = %req.method(),
                path = ?req.uri().path(),
                host = ?text(header::HOST.as_str()),
                origin = ?text(header::ORIGIN.as_str()),
                sec_fetch_site = ?text(SEC_FETCH_SITE),
                reason = %refusal.detail,
                "local endpoint refused a request"
            );
            return refusal.into_response();
        }
    };
    let mut response = match &caller {
        Caller::AllowedOrigin(_) if is_preflight(&req) => preflight(req.headers()),
        _ => next.run(req).await,
    };
    let headers = response.headers_mut();
    // Whether a request is served, refused or gets CORS headers depends on its Origin.
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    if let Caller::AllowedOrigin(origin) = caller {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(CORS_EXPOSED),
        );
    }
    response
}

/// A CORS preflight is an OPTIONS naming the method to come; an OPTIONS without it is an ordinary request and is
/// relayed like any other.
fn is_preflight(req: &Request) -> bool {
    req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The preflight answer for an allowed origin; the caller adds `Access-Control-Allow-Origin` and `Vary: Origin`.
/// The allowed headers are the ones the proxy forwards: asking for another one fails in the browser rather than
/// being silently dropped on the way.
fn preflight(request: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(CORS_METHODS),
    );
    let allowed = super::proxy::FORWARDED_REQUEST_HEADERS.join(", ");
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(CORS_MAX_AGE_SECONDS),
    );
    // Chrome asks before a public page reaches a loopback or private address; the operator allowed this origin
    // precisely so that it may.
    let private_network = HeaderName::from_static("access-control-request-private-network");
    if request
        .get(private_network)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
    {
        headers.insert(
            HeaderName::from_static("access-control-allow-private-network"),
            HeaderValue::from_static("true"),
        );
    }
    headers.append(
        header::VARY,
        HeaderValue::from_static("access-control-request-method, access-control-request-headers"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        [
            "127.0.0.1",
            "::1",
            "localhost",
            "twinport-local.city.internal",
        ]
        .map(String::from)
        .to_vec()
    }

    const DASHBOARD: &str = "https://dashboard.city.example";

    fn origins() -> Vec<String> {
        vec![DASHBOARD.to_string()]
    }

    fn request(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        h
    }

    fn verdict(pairs: &[(&str, &str)]) -> Result<Caller, Refusal> {
        judge(
            &Uri::from_static("/transfers/x"),
            &request(pairs),
            &hosts(),
            &origins(),
        )
    }

    fn status(pairs: &[(&str, &str)]) -> u16 {
        match verdict(pairs) {
            Ok(_) => 200,
            Err(r) => r.status.as_u16(),
        }
    }

    #[test]
    fn the_host_part_is_read_as_a_server_reads_it() {
        assert_eq!(host_of("127.0.0.1:8082").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_of("LocalHost").as_deref(), Some("localhost"));
        assert_eq!(host_of("localhost.:1").as_deref(), Some("localhost"));
        assert_eq!(host_of("[::1]:8082").as_deref(), Some("::1"));
        assert_eq!(host_of("[0:0:0:0:0:0:0:1]").as_deref(), Some("::1"));
        for bad in [
            "",
            ":8082",
            "::1",
            "[::1",
            "[::1]x",
            "[evil]",
            "a@localhost",
            "localhost:80x",
            "localhost:123456",
            "local host",
            "localhost/x",
        ] {
            assert_eq!(host_of(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_configured_host_names_are_answered() {
        for ok in [
            "127.0.0.1:8082",
            "localhost",
            "LOCALHOST:8082",
            "[::1]:8082",
            "Twinport-Local.City.Internal:443",
        ] {
            assert_eq!(status(&[("host", ok)]), 200, "{ok}");
        }
        // DNS rebinding: the attacker's name, resolving to the endpoint's address.
        for foreign in [
            "rebind.attacker.example:8082",
            "localhost.attacker.example",
            "127.0.0.2",
            "[::2]",
        ] {
            let refusal = verdict(&[("host", foreign)]).unwrap_err();
            assert_eq!(refusal.status, StatusCode::MISDIRECTED_REQUEST, "{foreign}");
            assert_eq!(refusal.slug, "misdirected-request");
        }
        // Missing, repeated or malformed: the request itself is bad.
        assert_eq!(status(&[]), 400);
        assert_eq!(status(&[("host", "localhost"), ("host", "localhost")]), 400);
        assert_eq!(
            status(&[("host", "localhost"), ("host", "evil.example")]),
            400
        );
        assert_eq!(status(&[("host", "user@localhost")]), 400);
    }

    #[test]
    fn an_absolute_request_target_must_name_this_endpoint_too() {
        let judge_uri = |uri: &'static str, host: &[(&str, &str)]| {
            judge(&Uri::from_static(uri), &request(host), &hosts(), &origins())
                .map_err(|r| r.status.as_u16())
        };
        assert_eq!(
            judge_uri("http://evil.example/transfers/x", &[("host", "localhost")]),
            Err(421)
        );
        assert_eq!(
            judge_uri(
                "http://localhost:8082/transfers/x",
                &[("host", "localhost")]
            ),
            Ok(Caller::Direct)
        );
        // HTTP/2 carries the authority instead of Host.
        assert_eq!(
            judge_uri("http://127.0.0.1:8082/transfers/x", &[]),
            Ok(Caller::Direct)
        );
    }

    #[test]
    fn browser_cross_site_requests_are_refused_unless_their_origin_is_allowed() {
        let host = ("host", "127.0.0.1:8082");
        for refused in [
            vec![host, ("origin", "https://attacker.example")],
            vec![
                host,
                ("origin", "https://attacker.example"),
                ("sec-fetch-site", "cross-site"),
            ],
            // Sandboxed frames and file pages send `null`.
            vec![host, ("origin", "null")],
            // The endpoint's own origin is not special: it serves no pages of its own.
            vec![
                host,
                ("origin", "http://127.0.0.1:8082"),
                ("sec-fetch-site", "same-origin"),
            ],
            // A subdomain or another port of an allowed origin is another origin.
            vec![host, ("origin", "https://dashboard.city.example:8443")],
            vec![host, ("origin", "http://dashboard.city.example")],
            vec![
                host,
                ("origin", DASHBOARD),
                ("origin", "https://attacker.example"),
            ],
            // No Origin (a GET navigation, an image): the fetch metadata still tell.
            vec![
                host,
                ("sec-fetch-site", "cross-site"),
                ("sec-fetch-mode", "no-cors"),
            ],
            vec![host, ("sec-fetch-site", "same-site")],
            vec![host, ("sec-fetch-site", "something-new")],
            vec![
                host,
                ("sec-fetch-site", "none"),
                ("sec-fetch-site", "cross-site"),
            ],
        ] {
            let refusal = verdict(&refused).unwrap_err();
            assert_eq!(refusal.status, StatusCode::FORBIDDEN, "{refused:?}");
            assert_eq!(refusal.slug, "cross-site-request");
        }
        for direct in [
            vec![host],
            vec![
                host,
                ("sec-fetch-site", "none"),
                ("sec-fetch-mode", "navigate"),
            ],
            vec![host, ("sec-fetch-site", "same-origin")],
        ] {
            assert_eq!(verdict(&direct), Ok(Caller::Direct), "{direct:?}");
        }
        for allowed in [
            vec![host, ("origin", DASHBOARD)],
            vec![
                host,
                ("origin", DASHBOARD),
                ("sec-fetch-site", "cross-site"),
            ],
        ] {
            assert_eq!(
                verdict(&allowed),
                Ok(Caller::AllowedOrigin(HeaderValue::from_static(DASHBOARD))),
                "{allowed:?}"
            );
        }
    }

    #[test]
    fn the_host_is_judged_before_the_origin() {
        let refusal =
            verdict(&[("host", "rebind.attacker.example"), ("origin", DASHBOARD)]).unwrap_err();
        assert_eq!(refusal.status, StatusCode::MISDIRECTED_REQUEST);
    }

    #[test]
    fn without_allowed_origins_every_origin_is_refused() {
        let h = request(&[("host", "localhost"), ("origin", DASHBOARD)]);
        let refusal = judge(&Uri::from_static("/"), &h, &hosts(), &[]).unwrap_err();
        assert_eq!(refusal.status, StatusCode::FORBIDDEN);
    }
}
