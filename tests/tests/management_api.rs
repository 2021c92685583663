//! The management API: resources and policies through their whole life, validation problems that name the field,
//! authentication, the OpenAPI document, and nothing stored changing on a bad request.

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::{city_pair, Storage, CITY_A};

fn resource(id: &str) -> Value {
    json!({
        "id": id,
        "kind": "visualisation-asset",
        "description": "A resource of the tests.", "title": "3D city model tiles",
        "keywords": ["3d", "buildings"],
        "distributions": [{"format": "application/json", "backend": "http://platform:8000/3dtiles/tileset.json"}],
        "offers": [{"policy": "partner-use"}]
    })
}

fn enc(id: &str) -> String {
    twinport::client::encode_segment(id)
}

#[tokio::test]
async fn resources_through_their_whole_life_on_each_backend() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let id = "urn:ldt:sample-city:3d-tiles";
        let created = a
            .management(Method::POST, "/api/v1/resources")
            .json(&resource(id))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let view: Value = created.json().await.unwrap();
        assert_eq!(view["source"], "api");
        assert_eq!(view["kind"], "visualisation-asset");

        let again = a
            .management(Method::POST, "/api/v1/resources")
            .json(&resource(id))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 409);

        // The partner sees the new resource, without its backend.
        let partner = b.running.state.config().partner(CITY_A).unwrap().clone();
        let catalog = b
            .running
            .state
            .client()
            .catalog(&partner, vec![json!({"kind": "visualisation-asset"})])
            .await
            .unwrap();
        assert_eq!(catalog["dataset"][0]["@id"], id);
        assert!(!catalog.to_string().contains("platform:8000"));

        let mut changed = resource(id);
        changed["title"] = json!("3D tiles (2026)");
        let updated = a
            .management(Method::PUT, &format!("/api/v1/resources/{}", enc(id)))
            .json(&changed)
            .send()
            .await
            .unwrap();
        assert_eq!(updated.status(), 200);
        let read: Value = a
            .management(Method::GET, &format!("/api/v1/resources/{}", enc(id)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(read["title"], "3D tiles (2026)");

        let list: Value = a
            .management(Method::GET, "/api/v1/resources")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list.as_array().unwrap().len(), 4);

        let deleted = a
            .management(Method::DELETE, &format!("/api/v1/resources/{}", enc(id)))
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
        let gone = a
            .management(Method::GET, &format!("/api/v1/resources/{}", enc(id)))
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status(), 404);
        assert_eq!(gone.headers()["content-type"], "application/problem+json");
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn invalid_resources_name_their_fields_and_change_nothing() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let before: Value = a
        .management(Method::GET, "/api/v1/resources")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let mut bad = resource("3d-tiles");
    bad["offers"] = json!([{"policy": "no-such-policy"}]);
    let r = a
        .management(Method::POST, "/api/v1/resources")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(
        problem["type"],
        "https://w3id.org/twinport/problems/validation"
    );
    assert_eq!(problem["status"], 422);
    assert_eq!(problem["errors"][0]["field"], "id");

    let mut no_policy = resource("urn:ldt:x");
    no_policy["offers"] = json!([{"policy": "no-such-policy"}]);
    let problem: Value = a
        .management(Method::POST, "/api/v1/resources")
        .json(&no_policy)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(problem["errors"][0]["field"], "offers[0].policy");

    let mut missing = resource("urn:ldt:x");
    missing.as_object_mut().unwrap().remove("title");
    let problem: Value = a
        .management(Method::POST, "/api/v1/resources")
        .json(&missing)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(problem["errors"][0]["field"], "title");

    let malformed = a
        .management(Method::POST, "/api/v1/resources")
        .header("content-type", "application/json")
        .body("{\"id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(
        malformed.headers()["content-type"],
        "application/problem+json"
    );

    // Resources from catalogue files belong to their files.
    let file_owned = "urn:ldt:sample-city:traffic-counts";
    let mut edit = resource(file_owned);
    edit["kind"] = json!("dataset");
    edit["stage"] = json!("raw");
    let r = a
        .management(
            Method::PUT,
            &format!("/api/v1/resources/{}", enc(file_owned)),
        )
        .json(&edit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = a
        .management(
            Method::DELETE,
            &format!("/api/v1/resources/{}", enc(file_owned)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    let after: Value = a
        .management(Method::GET, "/api/v1/resources")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        before, after,
        "refused requests must not change what is stored"
    );
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn policies_are_versioned_and_guarded() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let p1 = json!({"permission": [{"action": "use"}]});
    let r = a
        .management(Method::POST, "/api/v1/policies")
        .json(&json!({"id": "open-data", "policy": p1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 1);
    let p2 = json!({"permission": [{"action": "read"}]});
    let r: Value = a
        .management(Method::PUT, "/api/v1/policies/open-data")
        .json(&p2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["version"], 2);
    let history: Value = a
        .management(Method::GET, "/api/v1/policies/open-data/versions")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history[0]["policy"], p1);
    assert_eq!(history[1]["policy"], p2);

    let bad = a
        .management(Method::PUT, "/api/v1/policies/open-data")
        .json(&json!({"permission": [{"target": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let problem: Value = bad.json().await.unwrap();
    assert!(problem["errors"][0]["field"]
        .as_str()
        .unwrap()
        .starts_with("permission[0]"));
    let still: Value = a
        .management(Method::GET, "/api/v1/policies/open-data")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(still["version"], 2);

    // A policy in use by an offer cannot be deleted; a file policy cannot be changed here.
    let in_use = a
        .management(Method::DELETE, "/api/v1/policies/partner-use")
        .send()
        .await
        .unwrap();
    assert_eq!(in_use.status(), 409);
    let r = a
        .management(Method::DELETE, "/api/v1/policies/open-data")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = a
        .management(Method::GET, "/api/v1/policies/open-data")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn the_api_needs_the_token_and_describes_itself() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let base = a.running.management_url();
    let client = reqwest::Client::new();
    let anonymous = client
        .get(format!("{base}/api/v1/resources"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["content-type"],
        "application/problem+json"
    );
    let wrong = client
        .get(format!("{base}/api/v1/resources"))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let doc: Value = client
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/resources",
        "/api/v1/resources/{id}",
        "/api/v1/policies",
        "/api/v1/policies/{id}/versions",
        "/api/v1/partners/{id}/catalog",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    let partners: Value = a
        .management(Method::GET, "/api/v1/partners")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(partners[0]["id"], twinport_e2e::CITY_B);
    let health = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    a.running.stop().await;
    b.running.stop().await;
}
