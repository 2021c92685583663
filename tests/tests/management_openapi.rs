//! The management API's OpenAPI document as a product: walked here for what every operation must have (a summary,
//! a description, a unique snake_case operationId, a description for every answer, errors typed as problems,
//! examples on the main request bodies, optional bodies where the server treats them as optional), checked by
//! openapi-spec-validator (PyPI) when `TWINPORT_OPENAPI_VALIDATOR` names it (`.ci/setup-openapi.sh` sets it), and
//! rendered offline as the browsable reference at `/api/v1/docs`.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use twinport_e2e::{city_pair, Storage};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every operation of `doc`, as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_string(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// What is wrong with `doc`, one line per problem.
fn problems(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let ops = operations(doc);
    for (method, path, op) in &ops {
        let at = format!("{method} {path}");
        for field in ["summary", "description"] {
            if op[field].as_str().is_none_or(|s| s.trim().is_empty()) {
                out.push(format!("{at}: no {field}"));
            }
        }
        match op["operationId"].as_str() {
            Some(id)
                if !id.is_empty()
                    && id.split('_').count() >= 2
                    && id
                        .split('_')
                        .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase())) =>
            {
                ids.entry(id.to_string()).or_default().push(at.clone());
            }
            other => out.push(format!(
                "{at}: operationId {other:?} is not <verb>_<noun> in snake_case"
            )),
        }
        let responses = op["responses"].as_object();
        if responses.is_none_or(|r| r.is_empty()) {
            out.push(format!("{at}: no responses"));
        }
        for (status, response) in responses.into_iter().flatten() {
            if response["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty())
            {
                out.push(format!("{at} {status}: empty response description"));
            }
            if status.starts_with('4') || status.starts_with('5') {
                let types: Vec<&String> = response["content"]
                    .as_object()
                    .map(|c| c.keys().collect())
                    .unwrap_or_default();
                if types != ["application/problem+json"] {
                    out.push(format!(
                        "{at} {status}: error typed {types:?}, not application/problem+json"
                    ));
                }
            }
        }
    }
    for (id, uses) in ids {
        if uses.len() > 1 {
            out.push(format!("operationId {id} is used by {}", uses.join(", ")));
        }
    }
    out
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is documented");
    op
}

#[tokio::test]
async fn the_document_is_complete_valid_and_browsable() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let base = a.running.management_url();
    let client = reqwest::Client::new();
    let served = client
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let doc: Value = served.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let found = problems(&doc);
    assert!(
        found.is_empty(),
        "{} problems:\n{}",
        found.len(),
        found.join("\n")
    );
    assert!(
        operations(&doc).len() >= 37,
        "every operation is documented"
    );

    // An action's reason is optional, as the server treats it.
    for action in ["suspend", "resume", "complete", "terminate"] {
        let op = operation(&doc, "post", &format!("/api/v1/transfers/{{id}}/{action}"));
        assert_ne!(
            op["requestBody"]["required"], true,
            "{action}: the body is optional"
        );
    }
    let op = operation(&doc, "post", "/api/v1/negotiations/{id}/terminate");
    assert_ne!(op["requestBody"]["required"], true);
    // The main request bodies come with an example.
    for (method, path) in [
        ("post", "/api/v1/resources"),
        ("post", "/api/v1/policies"),
        ("post", "/api/v1/negotiations"),
        ("post", "/api/v1/negotiations/offers"),
        ("post", "/api/v1/transfers"),
        ("post", "/api/v1/policies/{id}/dry-run"),
    ] {
        let body = &operation(&doc, method, path)["requestBody"]["content"]["application/json"];
        assert!(body["example"].is_object(), "{method} {path}: no example");
    }
    // Lists say how they page and what they filter on.
    for (path, filters) in [
        (
            "/api/v1/negotiations",
            &["state", "partner", "dataset", "created_since"][..],
        ),
        (
            "/api/v1/transfers",
            &["state", "partner", "dataset", "updated_until"][..],
        ),
        ("/api/v1/agreements", &["partner", "dataset", "role"][..]),
        ("/api/v1/resources", &["kind", "source"][..]),
        ("/api/v1/policies", &["source"][..]),
    ] {
        let op = operation(&doc, "get", path);
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for name in ["limit", "cursor"].iter().chain(filters) {
            assert!(
                names.contains(name),
                "{path}: no {name} parameter in {names:?}"
            );
        }
        assert!(
            op["responses"]["200"]["headers"]["Link"].is_object(),
            "{path}: Link"
        );
        assert!(op["responses"]["400"].is_object(), "{path}: 400");
    }
    // Creations name what they made.
    for (method, path) in [
        ("post", "/api/v1/resources"),
        ("post", "/api/v1/policies"),
        ("post", "/api/v1/negotiations"),
        ("post", "/api/v1/transfers"),
    ] {
        let created = &operation(&doc, method, path)["responses"]["201"];
        assert!(
            created["headers"]["Location"].is_object(),
            "{method} {path}: Location"
        );
    }

    if let Ok(validator) = std::env::var("TWINPORT_OPENAPI_VALIDATOR") {
        let file = a.dir.path().join("openapi.json");
        std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        let run = Command::new(&validator)
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("{validator} runs: {e}"));
        let out = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success() && out.contains("OK"),
            "openapi-spec-validator refused the document:\n{out}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
    } else {
        println!("skipped: openapi-spec-validator (TWINPORT_OPENAPI_VALIDATOR is not set; .ci/setup-openapi.sh sets it)");
    }

    // The reference page: served like the document, self-contained, naming every operation.
    let page = client
        .get(format!("{base}/api/v1/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    let html = page.text().await.unwrap();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap();
        assert!(
            html.contains(&format!("id=\"op-{id}\"")),
            "{method} {path}: not on the page"
        );
        let summary = op["summary"]
            .as_str()
            .unwrap()
            .replace('&', "&amp;")
            .replace('\'', "&#39;");
        assert!(html.contains(&summary), "{method} {path}: summary");
    }
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            html.contains(&format!("id=\"schema-{name}\"")),
            "schema {name}"
        );
    }
    for outside in ["<script", "<link", "src=", "@import", "url("] {
        assert!(
            !html.contains(outside),
            "the page fetches nothing: found {outside}"
        );
    }
    assert!(html.contains("ldt-network-only"), "the examples are shown");
    a.running.stop().await;
    b.running.stop().await;
}

#[test]
fn the_walk_finds_what_the_validator_would_not() {
    let doc = serde_json::json!({"paths": {
        "/a": {"get": {"operationId": "list", "summary": "List", "responses": {"200": {"description": ""},
            "404": {"description": "x", "content": {"application/json": {}}}}}},
        "/b": {"get": {"operationId": "list", "summary": "", "description": "d", "responses": {}}}}});
    let found = problems(&doc);
    for expected in [
        "get /a: no description",
        "get /a: operationId Some(\"list\") is not <verb>_<noun> in snake_case",
        "get /a 200: empty response description",
        "get /a 404: error typed [\"application/json\"], not application/problem+json",
        "get /b: no summary",
        "get /b: no responses",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "{expected} in {found:#?}"
        );
    }
    let doc = serde_json::json!({"paths": {
        "/a": {"get": {"operationId": "list_things", "summary": "s", "description": "d", "responses": {"200": {"description": "ok"}}}},
        "/b": {"put": {"operationId": "list_things", "summary": "s", "description": "d", "responses": {"200": {"description": "ok"}}}}}});
    assert_eq!(
        problems(&doc),
        ["operationId list_things is used by get /a, put /b"]
    );
}
