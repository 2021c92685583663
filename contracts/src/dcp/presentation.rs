//! The DCP presentation exchange bodies (`POST <credential service>/presentations/query` and its answer): builders
//! for what Twinport sends, in exactly the shape EDC sends, and parsers for what it receives, which refuse what the
//! DCP spec and TCK say a party must refuse and tell the HTTP status to answer with.

use serde_json::{json, Map, Value};

use super::{DcpError, Scope, DCP_CONTEXT, PRESENTATION_EXCHANGE_CONTEXT};

const QUERY_TYPE: &str = "PresentationQueryMessage";
const RESPONSE_TYPE: &str = "PresentationResponseMessage";

/// A received presentation query, reduced to what Twinport supports: the scopes asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentationQuery {
    /// The scopes in the order received, at least one.
    pub scopes: Vec<Scope>,
}

/// Parses a received `PresentationQueryMessage`: an `@context` array containing [`DCP_CONTEXT`], `type`
/// `PresentationQueryMessage`, and `scope` or `presentationDefinition` but not both. A presentation definition
/// alone is refused as not supported (501, as DCP asks); both, none, an empty scope list or a scope outside the
/// grammar are 400.
pub fn parse_presentation_query(body: &Value) -> Result<PresentationQuery, DcpError> {
    let obj = message(body, QUERY_TYPE)?;
    let scope = obj.get("scope");
    let definition = obj.get("presentationDefinition");
    let scope = match (scope, definition) {
        (Some(_), Some(_)) => return Err(DcpError::BothScopeAndDefinition),
        (None, Some(_)) => return Err(DcpError::DefinitionNotSupported),
        (None, None) => {
            return Err(DcpError::Malformed(
                "a presentation query needs scope or presentationDefinition".into(),
            ))
        }
        (Some(scope), None) => scope,
    };
    let items = scope
        .as_array()
        .ok_or_else(|| DcpError::Malformed("scope is not an array".into()))?;
    if items.is_empty() {
        return Err(DcpError::EmptyScope);
    }
    let scopes = items
        .iter()
        .map(|item| {
            item.as_str()
                .ok_or_else(|| DcpError::Malformed("a scope is not a string".into()))
                .and_then(Scope::parse)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PresentationQuery { scopes })
}

/// The query Twinport sends to a holder's Credential Service, exactly as EDC's `DefaultCredentialServiceClient`
/// writes it (both contexts, Presentation Exchange first). At least one scope is needed: a query without any is
/// schema-invalid and the Credential Service refuses it.
pub fn presentation_query(scopes: &[Scope]) -> Value {
    json!({
        "@context": [PRESENTATION_EXCHANGE_CONTEXT, DCP_CONTEXT],
        "type": QUERY_TYPE,
        "scope": scopes.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// The answer of Twinport's Credential Service: each presentation a JWT string or an embedded (LDP) object.
pub fn presentation_response(presentations: Vec<Value>) -> Value {
    json!({
        "@context": [DCP_CONTEXT],
        "type": RESPONSE_TYPE,
        "presentation": presentations,
    })
}

/// Parses a received `PresentationResponseMessage` and returns its presentations (JWT strings or objects), in
/// order. An empty `presentation` array is refused: the schema allows it, but the DCP TCK demands a verifier reject
/// it, and a peer that presents nothing cannot be identified anyway. `presentationSubmission` is ignored, since
/// Twinport never asks with a presentation definition.
pub fn parse_presentation_response(body: &Value) -> Result<Vec<Value>, DcpError> {
    let obj = message(body, RESPONSE_TYPE)?;
    let items = match obj.get("presentation") {
        None => return Err(DcpError::Malformed("presentation is missing".into())),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(DcpError::Malformed("presentation is not an array".into())),
    };
    if items.is_empty() {
        return Err(DcpError::EmptyPresentation);
    }
    if items.iter().any(|p| !(p.is_string() || p.is_object())) {
        return Err(DcpError::Malformed(
            "a presentation is neither a string nor an object".into(),
        ));
    }
    Ok(items.clone())
}

/// The checks every DCP message shares: a JSON object whose `@context` is an array containing [`DCP_CONTEXT`]
/// (what `common/context-schema.json` demands) and whose `type` is `expected`.
fn message<'a>(body: &'a Value, expected: &str) -> Result<&'a Map<String, Value>, DcpError> {
    let obj = body
        .as_object()
        .ok_or_else(|| DcpError::Malformed("the body is not a JSON object".into()))?;
    match obj.get("@context") {
        None => return Err(DcpError::Malformed("@context is missing".into())),
        Some(Value::Array(contexts)) if contexts.iter().any(|c| c == DCP_CONTEXT) => {}
        Some(Value::Array(_)) => {
            return Err(DcpError::Malformed(format!(
                "@context does not contain {DCP_CONTEXT}"
            )))
        }
        Some(_) => return Err(DcpError::Malformed("@context is not an array".into())),
    }
    match obj.get("type") {
        Some(Value::String(t)) if t == expected => Ok(obj),
        Some(other) => Err(DcpError::Malformed(format!(
            "type is {other}, expected {expected}"
        ))),
        None => Err(DcpError::Malformed("type is missing".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcp::schemas;

    fn query(extra: Value) -> Value {
        let mut q = json!({"@context": [DCP_CONTEXT], "type": QUERY_TYPE});
        if let (Some(q), Some(extra)) = (q.as_object_mut(), extra.as_object()) {
            q.extend(extra.clone());
        }
        q
    }

    #[test]
    fn builds_the_query_edc_sends() {
        let q = presentation_query(&[Scope::for_type("MembershipCredential")]);
        let edc = r#"{"@context":["https://identity.foundation/presentation-exchange/submission/v1","https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"],"type":"PresentationQueryMessage","scope":["org.eclipse.dspace.dcp.vc.type:MembershipCredential:read"]}"#;
        assert_eq!(serde_json::to_string(&q).ok().as_deref(), Some(edc));
        schemas::expect_valid("presentation/presentation-query-message-schema.json", &q);
        let parsed = parse_presentation_query(&q).expect("own query parses");
        assert_eq!(parsed.scopes, vec![Scope::for_type("MembershipCredential")]);
    }

    #[test]
    fn builds_a_response_that_parses_back() {
        let presentations = vec![
            json!("eyJhbGciOiJFUzI1NiJ9.e30.c2ln"),
            json!({"type": "VerifiablePresentation"}),
        ];
        let r = presentation_response(presentations.clone());
        assert_eq!(
            serde_json::to_string(&r).ok().as_deref(),
            Some(
                r#"{"@context":["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"],"type":"PresentationResponseMessage","presentation":["eyJhbGciOiJFUzI1NiJ9.e30.c2ln",{"type":"VerifiablePresentation"}]}"#
            )
        );
        schemas::expect_valid("presentation/presentation-response-message-schema.json", &r);
        assert_eq!(parse_presentation_response(&r), Ok(presentations));
    }

    #[test]
    fn query_refusals_and_their_statuses() {
        let scope = json!(["org.eclipse.dspace.dcp.vc.type:MembershipCredential:read"]);
        let pd = json!({"id": "pd", "input_descriptors": []});
        let cases = [
            (
                query(json!({"scope": scope, "presentationDefinition": pd})),
                DcpError::BothScopeAndDefinition,
                400,
            ),
            (
                query(json!({"presentationDefinition": pd})),
                DcpError::DefinitionNotSupported,
                501,
            ),
            (query(json!({"scope": []})), DcpError::EmptyScope, 400),
            (
                query(json!({"scope": ["org.eclipse.dspace.dcp.vc.type:X:delete"]})),
                DcpError::BadScope("org.eclipse.dspace.dcp.vc.type:X:delete".into()),
                400,
            ),
            (
                query(json!({})),
                DcpError::Malformed(
                    "a presentation query needs scope or presentationDefinition".into(),
                ),
                400,
            ),
        ];
        for (body, expected, status) in cases {
            let err = parse_presentation_query(&body).expect_err("refused");
            assert_eq!(err, expected, "{body}");
            assert_eq!(err.status(), status, "{body}");
        }
        let malformed = [
            json!({"type": QUERY_TYPE, "scope": scope}),
            json!({"@context": DCP_CONTEXT, "type": QUERY_TYPE, "scope": scope}),
            json!({"@context": [PRESENTATION_EXCHANGE_CONTEXT], "type": QUERY_TYPE, "scope": scope}),
            json!({"@context": [DCP_CONTEXT], "scope": scope}),
            json!({"@context": [DCP_CONTEXT], "type": RESPONSE_TYPE, "scope": scope}),
            json!({"@context": [DCP_CONTEXT], "type": [QUERY_TYPE], "scope": scope}),
            query(json!({"scope": "org.eclipse.dspace.dcp.vc.type:MembershipCredential:read"})),
            query(json!({"scope": [42]})),
            json!([]),
            json!(null),
        ];
        for body in malformed {
            let err = parse_presentation_query(&body).expect_err("refused");
            assert!(matches!(err, DcpError::Malformed(_)), "{body}: {err:?}");
            assert_eq!(err.status(), 400);
        }
    }

    #[test]
    fn response_refusals() {
        let response = |presentation: Value| json!({"@context": [DCP_CONTEXT], "type": RESPONSE_TYPE, "presentation": presentation});
        let empty = response(json!([]));
        // The schema accepts an empty list; the parser refuses it (DCP TCK 5.4.2.3).
        schemas::expect_valid(
            "presentation/presentation-response-message-schema.json",
            &empty,
        );
        assert_eq!(
            parse_presentation_response(&empty),
            Err(DcpError::EmptyPresentation)
        );
        for body in [
            response(json!([1])),
            response(json!("jwt")),
            response(json!([null])),
            json!({"@context": [DCP_CONTEXT], "type": RESPONSE_TYPE}),
            json!({"type": RESPONSE_TYPE, "presentation": ["jwt"]}),
            json!({"@context": [DCP_CONTEXT], "type": QUERY_TYPE, "presentation": ["jwt"]}),
        ] {
            assert!(
                matches!(
                    parse_presentation_response(&body),
                    Err(DcpError::Malformed(_))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn official_examples_validate_and_parse() {
        let Some(query_example) =
            schemas::example("presentation/example/presentation-query-message.json")
        else {
            return;
        };
        // The example's scopes ("presentation1", ...) are placeholders outside DCP's own `alias:discriminator`
        // grammar, so the message is schema-valid but a Credential Service cannot answer it.
        assert_eq!(
            parse_presentation_query(&query_example),
            Err(DcpError::BadScope("presentation1".into()))
        );
        let with_pd = schemas::example(
            "presentation/example/presentation-query-message-w-presentation-definition.json",
        )
        .expect("present with the rest");
        assert_eq!(
            parse_presentation_query(&with_pd),
            Err(DcpError::DefinitionNotSupported)
        );
        let response = schemas::example("presentation/example/presentation-response-message.json")
            .expect("present");
        assert_eq!(
            parse_presentation_response(&response),
            Ok(vec![json!("presentation1"), json!("presentation2")])
        );
        let with_submission = schemas::example(
            "presentation/example/presentation-response-message-w-presentation-submission.json",
        )
        .expect("present");
        assert_eq!(
            parse_presentation_response(&with_submission),
            Ok(vec![json!("jwtPresentation")])
        );
    }
}
