//! `GET /catalog.ttl`, `/catalog.rdf` (and `.xml`), `/catalog.jsonld`, and `/catalog` by `Accept`: the discoverable
//! resources as a DCAT-AP 3 catalogue (DCAT-AP-NL 3 with `profile=dcat-ap-nl`), 100 to a page with Hydra paging,
//! as CKAN serves its own catalogue and as ckanext-dcat's harvester reads one (`docs/catalogue.md`). Parameters:
//! `page` (from 1), `modified_since` (a date or RFC 3339 date-time), `profile` (or CKAN's `profiles`). Anything else
//! is refused with a problem+json 400, so a harvester never takes an unfiltered answer for a filtered one.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::catalogue::public::dcat_ap::{self, CatalogPage, Paging, Profile, Syntax};
use crate::catalogue::public::{OpenCatalogue, Search};
use crate::catalogue::resource::instant;
use crate::error::ApiError;

/// Datasets per page, as CKAN's default (`ckanext.dcat.datasets_per_page`).
pub const PER_PAGE: usize = 100;

pub fn routes() -> Router<OpenCatalogue> {
    let mut router = Router::new().route("/catalog", get(negotiated));
    for ext in ["ttl", "rdf", "xml", "jsonld"] {
        router = router.route(
            &format!("/catalog.{ext}"),
            get(move |state, query| by_extension(state, query, ext)),
        );
    }
    router
}

async fn by_extension(
    State(open): State<OpenCatalogue>,
    RawQuery(query): RawQuery,
    ext: &'static str,
) -> Result<Response, ApiError> {
    let syntax = Syntax::from_extension(ext).unwrap_or(Syntax::Turtle);
    page(&open, query.as_deref(), syntax, ext).await
}

async fn negotiated(
    State(open): State<OpenCatalogue>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    let Some(syntax) = choose(accept) else {
        return Err(ApiError::Rejected {
            status: StatusCode::NOT_ACCEPTABLE,
            detail:
                "the catalogue is served as text/turtle, application/rdf+xml or application/ld+json"
                    .into(),
        });
    };
    page(&open, query.as_deref(), syntax, syntax.extension()).await
}

/// The syntax an `Accept` header prefers (by q-value, then by order), Turtle for `*/*`.
fn choose(accept: &str) -> Option<Syntax> {
    let mut best: Option<(f32, Syntax)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let syntax = match media.as_str() {
            "text/turtle" | "application/x-turtle" | "*/*" | "text/*" => Syntax::Turtle,
            "application/rdf+xml" | "application/xml" | "text/xml" => Syntax::RdfXml,
            "application/ld+json" | "application/json" | "application/*" => Syntax::JsonLd,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, syntax));
        }
    }
    best.map(|(_, s)| s)
}

/// What the query asks for.
struct Asked {
    page: usize,
    modified_since: Option<(String, time::OffsetDateTime)>,
    profile: Profile,
    profile_name: Option<String>,
}

fn parse_query(query: Option<&str>) -> Result<Asked, ApiError> {
    let mut asked = Asked {
        page: 1,
        modified_since: None,
        profile: Profile::DcatAp3,
        profile_name: None,
    };
    let mut seen = std::collections::HashSet::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        // `profile` and CKAN's `profiles` are one parameter.
        let name = if key == "profiles" {
            "profile"
        } else {
            key.as_ref()
        };
        if !seen.insert(name.to_string()) {
            return Err(ApiError::Malformed(format!(
                "{key} is given more than once"
            )));
        }
        match key.as_ref() {
            "page" => {
                asked.page = value
                    .parse::<usize>()
                    .ok()
                    .filter(|p| (1..=1_000_000).contains(p))
                    .ok_or_else(|| {
                        ApiError::Malformed(format!("page: expected a page number from 1, got {value:?}"))
                    })?
            }
            "modified_since" => {
                let at = instant(&value).ok_or_else(|| {
                    ApiError::Malformed(format!(
                        "modified_since: expected a date (YYYY-MM-DD) or an RFC 3339 date-time, got {value:?}"
                    ))
                })?;
                asked.modified_since = Some((value.to_string(), at));
            }
            "profile" | "profiles" => {
                asked.profile = Profile::parse(&value).ok_or_else(|| {
                    ApiError::Malformed(format!(
                        "{key}: unknown profile {value:?} (dcat-ap, or dcat-ap-nl for DCAT-AP-NL 3)"
                    ))
                })?;
                asked.profile_name = Some(value.to_string());
            }
            other => {
                return Err(ApiError::Malformed(format!(
                    "unknown parameter {other:?} (the catalogue takes page, modified_since and profile)"
                )))
            }
        }
    }
    Ok(asked)
}

async fn page(
    open: &OpenCatalogue,
    query: Option<&str>,
    syntax: Syntax,
    ext: &str,
) -> Result<Response, ApiError> {
    let asked = parse_query(query)?;
    let search = Search {
        modified_since: asked.modified_since.as_ref().map(|(_, at)| *at),
        ..Search::default()
    };
    let offset = (asked.page - 1) * PER_PAGE;
    let found = open.search(&search, offset, PER_PAGE).await?;
    let last = found.matched.div_ceil(PER_PAGE).max(1);
    if asked.page > last {
        return Err(ApiError::NotFound(format!(
            "page {} is past the last page, {last}",
            asked.page
        )));
    }
    let url = |n: usize| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some((text, _)) = &asked.modified_since {
            q.append_pair("modified_since", text);
        }
        if let Some(p) = &asked.profile_name {
            q.append_pair("profile", p);
        }
        q.append_pair("page", &n.to_string());
        format!("{}/catalog.{ext}?{}", open.public_url(), q.finish())
    };
    let paging = Paging {
        this: url(asked.page),
        first: url(1),
        last: url(last),
        next: (asked.page < last).then(|| url(asked.page + 1)),
        previous: (asked.page > 1).then(|| url(asked.page - 1)),
        total: found.matched,
        per_page: PER_PAGE,
    };
    let triples = dcat_ap::graph(&CatalogPage {
        info: open.info(),
        public_url: open.public_url(),
        records: &found.records,
        index: &found.index,
        paging,
        profile: asked.profile,
    });
    let body = dcat_ap::serialise(&triples, syntax)
        .map_err(|e| ApiError::Internal(format!("writing the DCAT catalogue: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                format!("{}; charset=utf-8", syntax.media_type()),
            ),
            (header::VARY, "Accept".to_string()),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_choose_a_syntax() {
        assert_eq!(choose("*/*"), Some(Syntax::Turtle));
        assert_eq!(choose("application/rdf+xml"), Some(Syntax::RdfXml));
        assert_eq!(
            choose("text/turtle;q=0.5, application/ld+json"),
            Some(Syntax::JsonLd)
        );
        assert_eq!(choose("image/png"), None);
    }

    #[test]
    fn unknown_and_malformed_parameters_are_refused() {
        assert!(parse_query(Some("page=2&profile=dcat-ap-nl")).is_ok());
        for bad in [
            "page=0",
            "page=x",
            "modified_since=yesterday",
            "profile=dcat-us",
            "q=flood",
            "page=3&page=1",
            "profile=dcat-ap&profiles=dcat-ap-nl",
        ] {
            assert!(
                matches!(parse_query(Some(bad)), Err(ApiError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
