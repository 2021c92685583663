//! The HTTP layer every listener's router is wrapped in: counts each answered request and times it by the matched
//! route template, and, when tracing is on, runs the handler inside a server span that continues the caller's
//! `traceparent`. Added with `Router::layer` after routing, so the `MatchedPath` is known.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use opentelemetry::context::FutureExt as _;
use tracing::Instrument as _;

use super::metrics::LatencyLabels;
use super::traces;
use super::Telemetry;

/// The endpoint label of a request no route matched: one series for all of them, never the raw path.
pub const UNMATCHED: &str = "unmatched";

/// Wraps `router` (one listener's) so its requests are measured and traced under `listener`'s name.
pub fn observe(router: Router, telemetry: Telemetry, listener: &'static str) -> Router {
    router.layer(axum::middleware::from_fn_with_state(
        (telemetry, listener),
        measure,
    ))
}

async fn measure(
    State((telemetry, listener)): State<(Telemetry, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_string();
    let method = method_label(request.method()).to_string();
    let response = match telemetry
        .traces()
        .incoming(request.headers(), &method, &endpoint)
    {
        None => next.run(request).await,
        Some(cx) => {
            // The trace id on the log span lets an operator go from a log line to the trace and back.
            let span = tracing::info_span!("request", trace_id = %traces::trace_id(&cx));
            let response = next
                .run(request)
                .with_context(cx.clone())
                .instrument(span)
                .await;
            traces::finish_server_span(&cx, response.status().as_u16());
            response
        }
    };
    telemetry.metrics().observe_request(
        LatencyLabels {
            listener,
            method,
            endpoint,
        },
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The method as a label: the standard ones by name, anything else as `other`, so a client inventing methods cannot
/// create series without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&axum::http::Method::POST), "POST");
        let invented = axum::http::Method::from_bytes(b"FROBNICATE-4711").unwrap();
        assert_eq!(method_label(&invented), "other");
        assert_eq!(method_label(&axum::http::Method::TRACE), "other");
    }
}
