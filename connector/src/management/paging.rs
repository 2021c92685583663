//! How every management list is asked for and answered: its query read strictly (a parameter the operation does
//! not document, a repeated one or an unusable value is a 400 naming each), cursor paging (`limit`, `cursor`), and
//! the answer a JSON array as it always was, with the next page's address in a `Link: <…>; rel="next"` header, so
//! clients that read the array keep working and those that page follow the link.

use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use utoipa::openapi::path::ParameterIn;
use utoipa::IntoParams;

use crate::catalogue::FieldError;
use crate::error::ApiError;
use crate::storage::{Page, PageRequest, Window};

/// Rows in a page when the request does not say.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most rows one page may hold.
pub const MAX_LIMIT: u32 = 1000;

/// The names `T` documents as query parameters: the only ones its operation takes.
pub fn parameter_names<T: IntoParams>() -> Vec<String> {
    T::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect()
}

fn problem(field: &str, problem: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        problem: problem.into(),
    }
}

/// Reads `uri`'s query into `T`. Every parameter `T` does not document, any given twice or empty, and a `limit`
/// outside 1 to [`MAX_LIMIT`] is left out and noted in the [`Checks`] returned, so that the handler's own checks of
/// the values add theirs and all are refused in one answer ([`Checks::done`]).
pub fn query<T: DeserializeOwned + IntoParams>(uri: &Uri) -> Result<(T, Checks), ApiError> {
    let known = parameter_names::<T>();
    let mut seen: Vec<String> = Vec::new();
    let mut checks = Checks::default();
    let mut usable = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        let refusal = if !known.iter().any(|k| *k == name) {
            Some(format!(
                "unknown query parameter; this operation takes {}",
                known.join(", ")
            ))
        } else if seen.contains(&name.to_string()) {
            Some("given more than once".into())
        } else if value.is_empty() {
            Some("empty; leave the parameter out instead".into())
        } else if name == "limit"
            && !value
                .parse::<u32>()
                .is_ok_and(|n| (1..=MAX_LIMIT).contains(&n))
        {
            Some(format!("must be a whole number from 1 to {MAX_LIMIT}"))
        } else {
            None
        };
        match refusal {
            Some(why) => checks.0.push(problem(&name, why)),
            None => {
                usable.append_pair(&name, &value);
            }
        }
        seen.push(name.into_owned());
    }
    let usable: Uri = format!("/?{}", usable.finish())
        .parse()
        .map_err(|_| ApiError::Malformed("the query cannot be read".into()))?;
    let value = axum::extract::Query::<T>::try_from_uri(&usable)
        .map_err(|e| ApiError::Query(vec![problem("query", e.body_text())]))?
        .0;
    Ok((value, checks))
}

/// Collects the problems of a query's values, to refuse them all in one answer.
#[derive(Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    /// The value, if given and one of `allowed`.
    pub fn one_of(
        &mut self,
        name: &str,
        value: Option<String>,
        allowed: &[&str],
    ) -> Option<String> {
        let value = value?;
        if allowed.contains(&value.as_str()) {
            Some(value)
        } else {
            self.0.push(problem(
                name,
                format!("{value:?} is not one of {}", allowed.join(", ")),
            ));
            None
        }
    }

    /// The window `since` (inclusive) to `until` (exclusive), each RFC 3339, compared to the second.
    pub fn window(
        &mut self,
        names: (&str, &str),
        since: Option<String>,
        until: Option<String>,
    ) -> Window {
        let since = since.and_then(|v| self.instant(names.0, &v));
        let until = until.and_then(|v| self.instant(names.1, &v));
        if let (Some(s), Some(u)) = (&since, &until) {
            if s >= u {
                self.0.push(problem(
                    names.1,
                    format!("must be later than {} (to the second)", names.0),
                ));
            }
        }
        Window { since, until }
    }

    fn instant(&mut self, name: &str, value: &str) -> Option<String> {
        let second = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        let at = OffsetDateTime::parse(value, &Rfc3339)
            .ok()
            .and_then(|t| t.to_offset(UtcOffset::UTC).format(&second).ok());
        if at.is_none() {
            self.0.push(problem(
                name,
                format!("{value:?} is not an RFC 3339 time such as 2026-12-01T08:00:00Z"),
            ));
        }
        at
    }

    /// The page asked for: `limit` rows (default [`DEFAULT_LIMIT`]) after the row `cursor` names, a cursor this API
    /// gave for a list ordered by `keys` keys.
    pub fn page(&mut self, limit: Option<u32>, cursor: Option<String>, keys: usize) -> PageRequest {
        let after = cursor.and_then(|c| {
            let decoded = URL_SAFE_NO_PAD
                .decode(c.as_bytes())
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Vec<String>>(&bytes).ok())
                .filter(|k| k.len() == keys);
            if decoded.is_none() {
                self.0.push(problem(
                    "cursor",
                    "not a cursor of this list: use the one in the previous page's Link header",
                ));
            }
            decoded
        });
        PageRequest {
            after,
            limit: limit.unwrap_or(DEFAULT_LIMIT),
        }
    }

    /// Refuses the query if any value was unusable.
    pub fn done(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Query(self.0))
        }
    }
}

/// The cursor naming the row with order key `key`.
fn cursor(key: &[String]) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// One page of a list as answered: a JSON array, and a `Link` to the next page when there is one.
pub struct Listed<V> {
    items: Vec<V>,
    next: Option<String>,
}

impl<V> Listed<V> {
    /// The page `page` of the list at `uri` (the full request target, as the client sent it), each row shown as
    /// `show` makes it.
    pub async fn of<R, F, Fut>(uri: &Uri, page: Page<R>, mut show: F) -> Result<Listed<V>, ApiError>
    where
        F: FnMut(R) -> Fut,
        Fut: std::future::Future<Output = Result<V, ApiError>>,
    {
        let mut items = Vec::with_capacity(page.items.len());
        for row in page.items {
            items.push(show(row).await?);
        }
        Ok(Listed {
            items,
            next: page.next.map(|key| next_link(uri, &cursor(&key))),
        })
    }
}

/// The target of the next page: the same path and parameters, with `cursor` set to the next page's.
fn next_link(uri: &Uri, cursor: &str) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if name != "cursor" {
            out.append_pair(&name, &value);
        }
    }
    out.append_pair("cursor", cursor);
    format!("{}?{}", uri.path(), out.finish())
}

impl<V: Serialize> IntoResponse for Listed<V> {
    fn into_response(self) -> Response {
        let mut response = Json(self.items).into_response();
        if let Some(next) = self.next {
            if let Ok(link) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
                response.headers_mut().insert(header::LINK, link);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    #[allow(dead_code)]
    struct Sample {
        limit: Option<u32>,
        cursor: Option<String>,
        state: Option<String>,
    }

    fn uri(q: &str) -> Uri {
        format!("/api/v1/things?{q}").parse().unwrap()
    }

    fn fields(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Query(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("a query problem, not {other:?}"),
        }
    }

    #[test]
    fn unknown_repeated_empty_and_out_of_range_parameters_are_all_named() {
        let (q, checks) =
            query::<Sample>(&uri("colour=red&state=A&state=B&cursor=&limit=0&size=2")).unwrap();
        assert_eq!(
            q.state.as_deref(),
            Some("A"),
            "the first of a repeated parameter is kept"
        );
        assert_eq!(q.limit, None);
        assert_eq!(
            fields(checks.done().unwrap_err()),
            ["colour", "state", "cursor", "limit", "size"]
        );
        let (_, checks) = query::<Sample>(&uri("limit=1001")).unwrap();
        assert_eq!(fields(checks.done().unwrap_err()), ["limit"]);
        let (q, checks) = query::<Sample>(&uri("limit=5&state=FINALIZED")).unwrap();
        assert!(checks.done().is_ok());
        assert_eq!((q.limit, q.state.as_deref()), (Some(5), Some("FINALIZED")));
        let (_, checks) = query::<Sample>(&"/api/v1/things".parse().unwrap()).unwrap();
        assert!(checks.done().is_ok());
    }

    #[test]
    fn windows_are_read_to_the_second_in_utc_and_must_be_open() {
        let mut c = Checks::default();
        let w = c.window(
            ("since", "until"),
            Some("2026-12-07T10:00:00.75+01:00".into()),
            Some("2026-12-07T10:00:01Z".into()),
        );
        assert_eq!(w.since.as_deref(), Some("2026-12-07T09:00:00"));
        assert_eq!(w.until.as_deref(), Some("2026-12-07T10:00:01"));
        assert!(c.done().is_ok());
        let mut c = Checks::default();
        c.window(("since", "until"), Some("yesterday".into()), None);
        c.window(
            ("since", "until"),
            Some("2026-12-07T10:00:00Z".into()),
            Some("2026-12-07T10:00:00Z".into()),
        );
        assert_eq!(fields(c.done().unwrap_err()), ["since", "until"]);
    }

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let key = vec!["2026-12-07T10:00:00Z".to_string(), "urn:uuid:1".to_string()];
        let mut c = Checks::default();
        let page = c.page(Some(3), Some(cursor(&key)), 2);
        assert_eq!(page.after, Some(key.clone()));
        assert_eq!(page.limit, 3);
        let page = c.page(None, None, 2);
        assert_eq!((page.after, page.limit), (None, DEFAULT_LIMIT));
        assert!(c.done().is_ok());
        let mut c = Checks::default();
        c.page(None, Some(cursor(&key)), 1);
        c.page(None, Some("not base64!".into()), 1);
        assert_eq!(fields(c.done().unwrap_err()), ["cursor", "cursor"]);
    }

    #[test]
    fn the_next_link_keeps_the_filters_and_replaces_the_cursor() {
        let link = next_link(&uri("state=FINALIZED&cursor=old&limit=2"), "new");
        assert_eq!(link, "/api/v1/things?state=FINALIZED&limit=2&cursor=new");
        let link = next_link(&uri("partner=https%3A%2F%2Fcity-b.example"), "c");
        assert_eq!(
            link,
            "/api/v1/things?partner=https%3A%2F%2Fcity-b.example&cursor=c"
        );
    }
}
