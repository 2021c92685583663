//! What the JSON surfaces (DSP and management) ask of a request body before a handler reads it: a JSON media
//! type when there is a body, and a bounded size. Each surface turns a [`BodyRefusal`] into its own error form.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};

/// The largest JSON body the DSP and management listeners read. DSP messages and catalogue entries are a few
/// kilobytes; a policy with hundreds of rules stays well below this.
pub const MAX_JSON_BODY: usize = 2 * 1024 * 1024;

/// Why a body was refused, with the status to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRefusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub reason: String,
}

/// True for `application/json` and every `application/…+json` type (`ld+json`, `problem+json`, `odrl+json`).
pub fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json") && sub.len() > "+json".len())
}

/// Checks the media type of a request that carries a body and reads the body whole, up to [`MAX_JSON_BODY`];
/// hands back the request with the body buffered.
pub async fn json_body(request: Request) -> Result<Request, BodyRefusal> {
    let (parts, body) = request.into_parts();
    let writes = matches!(parts.method, Method::POST | Method::PUT | Method::PATCH);
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_JSON_BODY as u64) {
        return Err(too_large());
    }
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_JSON_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let limit = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return Err(if limit {
                too_large()
            } else {
                BodyRefusal {
                    status: StatusCode::BAD_REQUEST,
                    code: "bad-request",
                    reason: format!("the request body could not be read: {e}"),
                }
            });
        }
    };
    if writes && !bytes.is_empty() {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        match content_type {
            Some(t) if is_json_media_type(t) => {}
            Some(t) => {
                return Err(BodyRefusal {
                    status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    code: "unsupported-media-type",
                    reason: format!("the body is {t}; send application/json"),
                })
            }
            None => {
                return Err(BodyRefusal {
                    status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    code: "unsupported-media-type",
                    reason: "the body has no Content-Type; send application/json".into(),
                })
            }
        }
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn too_large() -> BodyRefusal {
    BodyRefusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "too-large",
        reason: format!("the request body is larger than {MAX_JSON_BODY} bytes"),
    }
}

/// The text of an error answer made by the HTTP layer (axum's rejections are short plain text), bounded.
pub async fn error_text(body: Body) -> String {
    match axum::body::to_bytes(body, 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/ld+json",
            "application/problem+json",
        ] {
            assert!(is_json_media_type(ok), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/+json",
            "json",
            "",
        ] {
            assert!(!is_json_media_type(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_body_without_a_json_type_is_refused_an_empty_one_is_not() {
        let post = |ct: Option<&str>, body: &'static str| {
            let mut b = Request::builder().method("POST").uri("/x");
            if let Some(ct) = ct {
                b = b.header("content-type", ct);
            }
            b.body(Body::from(body)).unwrap()
        };
        assert_eq!(
            json_body(post(Some("text/plain"), "{}"))
                .await
                .unwrap_err()
                .status,
            415
        );
        assert_eq!(json_body(post(None, "{}")).await.unwrap_err().status, 415);
        assert!(json_body(post(None, "")).await.is_ok());
        assert!(json_body(post(Some("application/json"), "{}"))
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn an_oversized_body_is_413() {
        let big = "x".repeat(MAX_JSON_BODY + 1);
        let request = Request::builder()
            .method("POST")
            .uri("/x")
            .header("content-type", "application/json")
            .body(Body::from(big))
            .unwrap();
        assert_eq!(json_body(request).await.unwrap_err().status, 413);
    }
}
