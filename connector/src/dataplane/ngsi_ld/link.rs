//! The partner's `Link` header, read as RFC 8288 defines it, and the one the broker gets instead. NGSI-LD names a
//! GET's @context in a link with the JSON-LD context relation; the data plane judges the request under that context,
//! so the header must be read exactly as any RFC 8288 reader (the broker's) would: a comma inside a quoted `title`
//! does not start a second link. Anything the parser cannot read, several header lines, several context links, an
//! `anchor` on the context link or a context the resource does not declare is refused, and the header the broker
//! receives is rebuilt from the single judged URL: the partner's own text never reaches the broker.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::problem::Refusal;
use super::context::{not_declared, ActiveContext, CORE_CONTEXT_PREFIX};

/// The link relation of a JSON-LD context (JSON-LD 1.1 §6.1, used by NGSI-LD for GET requests).
pub const CONTEXT_REL: &str = "http://www.w3.org/ns/json-ld#context";

/// A judged `Link`: the context to expand terms with and the header value to send the broker (none when only the
/// core context applies, which every broker uses anyway).
#[derive(Debug, Clone, PartialEq)]
pub struct JudgedLink {
    pub context: ActiveContext,
    pub outgoing: Option<String>,
}

/// Judges the partner's `Link` header lines against the contexts the resource declares.
pub fn judge(lines: &[&str], declared: &BTreeMap<String, Value>) -> Result<JudgedLink, Refusal> {
    let core = JudgedLink {
        context: ActiveContext::default(),
        outgoing: None,
    };
    let line = match lines {
        [] => return Ok(core),
        [line] => *line,
        _ => {
            return Err(Refusal::bad_request(
                "several Link header lines: send the @context link in one",
            ))
        }
    };
    let Some(url) = context_url(line)? else {
        return Ok(core);
    };
    if url.as_str().starts_with(CORE_CONTEXT_PREFIX) {
        return Ok(core);
    }
    // Declared keys are compared as URLs, so a partner's spelling (`HTTPS://City-A.example/...`) does not decide.
    let key = declared
        .keys()
        .find(|k| url::Url::parse(k).is_ok_and(|d| d == url))
        .ok_or_else(|| not_declared(url.as_str(), declared))?;
    Ok(JudgedLink {
        context: ActiveContext::declared(key, declared)?,
        outgoing: Some(context_link(&url)),
    })
}

/// The `Link` value naming `url` as the JSON-LD context, as NGSI-LD writes it.
pub fn context_link(url: &url::Url) -> String {
    format!(
        "<{}>; rel=\"{CONTEXT_REL}\"; type=\"application/ld+json\"",
        url.as_str()
    )
}

/// The target of the one JSON-LD context link in a `Link` value, if there is one.
pub fn context_url(value: &str) -> Result<Option<url::Url>, Refusal> {
    // Optional whitespace around a field value is not part of it (RFC 9110 §5.5); the grammar has no room for it.
    let value = value.trim_matches([' ', '\t']);
    let links = nom_rfc8288::complete::link_strict(value).map_err(|e| {
        Refusal::bad_request(format!(
            "the Link header cannot be read as RFC 8288 links: {e}"
        ))
    })?;
    let mut found = None;
    for link in links.into_iter().flatten() {
        let mut rels = link
            .params
            .iter()
            .filter(|p| p.key.eq_ignore_ascii_case("rel"));
        let rel = rels.next();
        // RFC 8288 ignores a second `rel`; a reader that does not would see other relations: refuse the ambiguity.
        if rels.next().is_some() {
            return Err(Refusal::bad_request(
                "a link in the Link header has more than one rel parameter",
            ));
        }
        // Relation types are compared case-insensitively (RFC 8288 §2.1); `rel` may hold several, space-separated.
        let is_context = rel.and_then(|p| p.val.as_deref()).is_some_and(|v| {
            v.split([' ', '\t'])
                .any(|r| r.eq_ignore_ascii_case(CONTEXT_REL))
        });
        if !is_context {
            continue;
        }
        if link
            .params
            .iter()
            .any(|p| p.key.eq_ignore_ascii_case("anchor"))
        {
            return Err(Refusal::bad_request(
                "the @context link has an anchor parameter, which NGSI-LD does not define",
            ));
        }
        if found.is_some() {
            return Err(Refusal::bad_request(
                "the Link header names more than one JSON-LD @context: send exactly one",
            ));
        }
        let url = url::Url::parse(link.url).map_err(|_| {
            Refusal::bad_request("the @context link's target is not an absolute URL")
        })?;
        found = Some(url);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CITY: &str = "https://city-a.example/context.jsonld";
    const EVIL: &str = "https://evil.example/ctx.jsonld";

    fn declared() -> BTreeMap<String, Value> {
        let mut d = BTreeMap::new();
        d.insert(
            CITY.to_string(),
            json!({"@context": {"speed": "https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed"}}),
        );
        d
    }

    fn link(url: &str) -> String {
        format!("<{url}>; rel=\"{CONTEXT_REL}\"; type=\"application/ld+json\"")
    }

    fn status(r: Result<JudgedLink, Refusal>) -> u16 {
        r.map(|_| 200).unwrap_or_else(|e| e.status.as_u16())
    }

    #[test]
    fn the_probe_with_a_quoted_comma_is_judged_under_its_real_context_and_refused() {
        // The declared context hides inside a quoted title; an RFC 8288 reader sees one link, to the evil context.
        let probe =
            format!("<{EVIL}>; title=\"x,<{CITY}>; rel={CONTEXT_REL}\"; rel=\"{CONTEXT_REL}\"");
        assert_eq!(
            context_url(&probe).unwrap().unwrap().as_str(),
            EVIL,
            "the title's content is not a link"
        );
        let refused = judge(&[&probe], &declared()).unwrap_err();
        assert_eq!(refused.status, 400);
        assert!(refused.detail.contains(EVIL), "{}", refused.detail);
        // With the quote closed early, the declared context is a real second link: two contexts, refused.
        let two = format!(
            "<{EVIL}>; title=\"x\", <{CITY}>; rel=\"{CONTEXT_REL}\"; rel=\"{CONTEXT_REL}\""
        );
        assert_eq!(status(judge(&[&two], &declared())), 400);
    }

    #[test]
    fn quoted_commas_and_semicolons_belong_to_their_parameter() {
        let value = format!("<{CITY}>; title=\"a, <b>; rel=c\"; rel=\"{CONTEXT_REL}\"; type=\"application/ld+json\"");
        let judged = judge(&[&value], &declared()).unwrap();
        assert_eq!(judged.outgoing.as_deref(), Some(link(CITY).as_str()));
        assert_eq!(
            judged.context.expand("speed"),
            "https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed"
        );
    }

    #[test]
    fn other_links_are_ignored_and_the_outgoing_header_is_rebuilt() {
        let value = "<https://city-a.example/doc>; rel=\"alternate describedby\", \
                     <HTTPS://CITY-A.example/context.jsonld>;REL=\"HTTP://WWW.W3.ORG/ns/json-ld#context\"";
        let judged = judge(&[value], &declared()).unwrap();
        assert_eq!(judged.outgoing.as_deref(), Some(link(CITY).as_str()));
        // Several relation types in one rel, one of them the context.
        let value = format!("<{CITY}>; rel=\"alternate {CONTEXT_REL}\"");
        assert!(judge(&[&value], &declared()).unwrap().outgoing.is_some());
    }

    #[test]
    fn no_link_or_the_core_context_sends_no_link() {
        assert_eq!(judge(&[], &declared()).unwrap().outgoing, None);
        let core = link("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld");
        let judged = judge(&[&core], &declared()).unwrap();
        assert_eq!(judged.outgoing, None);
        assert_eq!(judged.context, ActiveContext::default());
        let other = "<https://city-a.example/doc>; rel=\"alternate\"";
        assert_eq!(judge(&[other], &declared()).unwrap().outgoing, None);
    }

    #[test]
    fn several_links_lines_or_contexts_are_refused() {
        let one = link(CITY);
        assert_eq!(status(judge(&[&one, &one], &declared())), 400);
        let twice = format!("{one}, {one}");
        assert_eq!(status(judge(&[&twice], &declared())), 400);
        let two_rels = format!("<{CITY}>; rel=\"alternate\"; rel=\"{CONTEXT_REL}\"");
        assert_eq!(status(judge(&[&two_rels], &declared())), 400);
        let anchored = format!("{one}; anchor=\"https://elsewhere.example/\"");
        assert_eq!(status(judge(&[&anchored], &declared())), 400);
    }

    #[test]
    fn malformed_headers_are_refused_not_guessed() {
        for bad in [
            format!("{CITY}; rel=\"{CONTEXT_REL}\""),
            format!("<{CITY}; rel=\"{CONTEXT_REL}\""),
            format!("<{CITY}>; rel=\"{CONTEXT_REL}"),
            format!("<{CITY}>; rel=\"{CONTEXT_REL}\";"),
            format!("<{CITY}>; rel={CONTEXT_REL}"),
            format!("<{CITY}>; rel=\"{CONTEXT_REL}\" junk"),
            format!("<context.jsonld>; rel=\"{CONTEXT_REL}\""),
            "garbage".to_string(),
        ] {
            assert_eq!(status(judge(&[&bad], &declared())), 400, "{bad}");
        }
    }

    #[test]
    fn undeclared_contexts_are_refused_not_fetched() {
        let e = judge(&[&link(EVIL)], &declared()).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(
            e.detail.contains(CITY),
            "names what is accepted: {}",
            e.detail
        );
    }
}
