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
    // The partners list pages and filters like the others.
    let (status, headers, first) = get(&a, "/api/v1/partners?limit=1&source=file").await;
    assert_eq!(
        (status, first[0]["id"].as_str()),
        (200, Some(twinport_e2e::CITY_B))
    );
    assert!(headers.get("link").is_none(), "one partner, one page");
    let (_, _, none) = get(&a, "/api/v1/partners?source=api").await;
    assert_eq!(none, json!([]));
    assert_eq!(
        refused(&a, "/api/v1/partners?kind=x&source=dns").await,
        ["kind", "source"]
    );
    let health = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    a.running.stop().await;
    b.running.stop().await;
}

/// A GET of the management API with the operator's token, answered as (status, headers, JSON body).
async fn get(city: &twinport_e2e::City, target: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = city.management(Method::GET, target).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

/// The target a list's `Link: <…>; rel="next"` header names, if it has one.
fn next_page(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().unwrap();
    assert!(link.ends_with(">; rel=\"next\""), "{link}");
    Some(link[1..link.find('>').unwrap()].to_string())
}

/// Every row of the list at `target`, following its `Link` headers; also checks each page holds at most `limit`.
async fn all_pages(city: &twinport_e2e::City, target: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next = Some(target.to_string());
    while let Some(target) = next {
        let (status, headers, page) = get(city, &target).await;
        assert_eq!(status, 200, "{target}: {page}");
        let rows = page.as_array().unwrap();
        assert!(rows.len() <= limit, "{target}: {} rows", rows.len());
        next = next_page(&headers);
        assert!(
            next.is_none() || rows.len() == limit,
            "a page before the last is full"
        );
        out.extend(rows.iter().cloned());
    }
    out
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// The problem a refused query gets: 400, problem+json, and the fields it names.
async fn refused(city: &twinport_e2e::City, target: &str) -> Vec<String> {
    let r = city.management(Method::GET, target).send().await.unwrap();
    assert_eq!(r.status(), 400, "{target}");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(
        problem["type"],
        "https://w3id.org/twinport/problems/query-parameter"
    );
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn resources_and_policies_page_filter_and_name_what_was_created_on_each_backend() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let mut made = Vec::new();
        for i in 1..=5 {
            let id = format!("urn:ldt:paging:r{i}");
            let r = a
                .management(Method::POST, "/api/v1/resources")
                .json(&resource(&id))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let location = r.headers()["location"].to_str().unwrap().to_string();
            assert_eq!(location, format!("/api/v1/resources/{}", enc(&id)));
            let (status, _, read) = get(&a, &location).await;
            assert_eq!((status, read["id"].as_str()), (200, Some(id.as_str())));
            made.push(id);
        }
        // PUT answers 201 with Location when it creates, 200 without when it replaces.
        let put_id = "urn:ldt:paging:r6";
        let r = a
            .management(Method::PUT, &format!("/api/v1/resources/{}", enc(put_id)))
            .json(&resource(put_id))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(
            r.headers()["location"],
            format!("/api/v1/resources/{}", enc(put_id)).as_str()
        );
        let r = a
            .management(Method::PUT, &format!("/api/v1/resources/{}", enc(put_id)))
            .json(&resource(put_id))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("location").is_none());
        made.push(put_id.to_string());

        // Paging visits every resource once, in id order, whatever the page size.
        let (status, headers, everything) = get(&a, "/api/v1/resources").await;
        assert_eq!(status, 200);
        assert!(headers.get("link").is_none(), "one page holds them all");
        let everything = ids(everything.as_array().unwrap());
        assert_eq!(everything.len(), 9, "3 from files and 6 made");
        let mut sorted = everything.clone();
        sorted.sort();
        assert_eq!(everything, sorted);
        for limit in [1, 2, 4] {
            let paged = all_pages(&a, &format!("/api/v1/resources?limit={limit}"), limit).await;
            assert_eq!(ids(&paged), everything, "limit={limit}");
        }
        // Filters, alone and with paging.
        let api = all_pages(
            &a,
            "/api/v1/resources?source=api&kind=visualisation-asset&limit=4",
            4,
        )
        .await;
        assert_eq!(ids(&api), made);
        let (_, _, files) = get(&a, "/api/v1/resources?source=file").await;
        assert!(files
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["source"] == "file"));
        assert_eq!(files.as_array().unwrap().len(), 3);
        let (_, _, none) = get(&a, "/api/v1/resources?updated_since=2999-01-01T00:00:00Z").await;
        assert_eq!(none, json!([]));
        let (_, _, none) = get(
            &a,
            "/api/v1/resources?created_until=2001-01-01T00:00:00%2B01:00",
        )
        .await;
        assert_eq!(none, json!([]));
        let (_, _, recent) = get(
            &a,
            "/api/v1/resources?source=api&updated_since=2001-01-01T00:00:00Z",
        )
        .await;
        assert_eq!(ids(recent.as_array().unwrap()), made);

        // Policies: created with Location, listed by source, paged.
        for name in ["paging-a", "paging-b", "paging-c"] {
            let r = a
                .management(Method::POST, "/api/v1/policies")
                .json(&json!({"id": name, "policy": {"permission": [{"action": "use"}]}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            assert_eq!(
                r.headers()["location"],
                format!("/api/v1/policies/{name}").as_str()
            );
        }
        let api = all_pages(&a, "/api/v1/policies?source=api&limit=2", 2).await;
        assert_eq!(ids(&api), ["paging-a", "paging-b", "paging-c"]);
        let (_, _, all) = get(&a, "/api/v1/policies").await;
        let all = ids(all.as_array().unwrap());
        assert_eq!(
            ids(&all_pages(&a, "/api/v1/policies?limit=1", 1).await),
            all
        );
        let (_, _, later) = get(&a, "/api/v1/policies?changed_since=2999-01-01T00:00:00Z").await;
        assert_eq!(later, json!([]));

        // What a list cannot use is refused, every problem named, nothing silently ignored.
        assert_eq!(
            refused(&a, "/api/v1/resources?colour=red&limit=0&kind=tree").await,
            ["colour", "limit", "kind"]
        );
        assert_eq!(
            refused(&a, "/api/v1/resources?state=FINALIZED").await,
            ["state"]
        );
        assert_eq!(
            refused(&a, "/api/v1/resources?limit=1&limit=2").await,
            ["limit"]
        );
        assert_eq!(refused(&a, "/api/v1/resources?limit=1001").await, ["limit"]);
        assert_eq!(
            refused(&a, "/api/v1/resources?cursor=bm90LWEtY3Vyc29y").await,
            ["cursor"]
        );
        assert_eq!(
            refused(&a, "/api/v1/resources?updated_since=yesterday").await,
            ["updated_since"]
        );
        assert_eq!(
            refused(&a, "/api/v1/policies?source=git&changed_since=2026-12-02T00:00:00Z&changed_until=2026-12-01T00:00:00Z").await,
            ["source", "changed_until"]
        );
        assert_eq!(
            refused(&a, "/api/v1/audit/entries?kinds=x").await,
            ["kinds"]
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn processes_and_agreements_page_filter_and_show_their_dataset_on_each_backend() {
    use twinport_e2e::{pull_transfer, CITY_B};
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let policy = json!({"permission": [{"action": "use"}]});
        let address = json!({"format": "application/json", "backend": "http://127.0.0.1:9/data"});
        let first = pull_transfer(
            &a,
            &b,
            "urn:ldt:paging:roads",
            policy.clone(),
            address.clone(),
            None,
        )
        .await;
        let second = pull_transfer(&a, &b, "urn:ldt:paging:trees", policy, address, None).await;

        // Negotiations: by state, role, partner and dataset; paged in creation order.
        let (_, _, all) = get(&b, "/api/v1/negotiations").await;
        let all = all.as_array().unwrap().clone();
        assert_eq!(all.len(), 2);
        assert_eq!(
            ids(&all_pages(&b, "/api/v1/negotiations?limit=1", 1).await),
            ids(&all)
        );
        let finalized = all_pages(
            &b,
            &format!(
                "/api/v1/negotiations?state=FINALIZED&role=consumer&partner={}",
                enc(CITY_A)
            ),
            100,
        )
        .await;
        assert_eq!(ids(&finalized), ids(&all));
        let (_, _, none) = get(&b, "/api/v1/negotiations?state=REQUESTED").await;
        assert_eq!(none, json!([]));
        let (_, _, none) = get(&b, "/api/v1/negotiations?role=provider").await;
        assert_eq!(none, json!([]));
        let (_, _, trees) = get(&b, "/api/v1/negotiations?dataset=urn:ldt:paging:trees").await;
        assert_eq!(trees.as_array().unwrap().len(), 1);
        assert_eq!(trees[0]["agreement_id"], second.agreement_id.as_str());
        let (_, _, by_agreement) = get(
            &b,
            &format!(
                "/api/v1/negotiations?agreement={}",
                enc(&first.agreement_id)
            ),
        )
        .await;
        assert_eq!(by_agreement[0]["dataset"], "urn:ldt:paging:roads");
        let (_, _, later) = get(
            &b,
            "/api/v1/negotiations?updated_since=2999-01-01T00:00:00Z",
        )
        .await;
        assert_eq!(later, json!([]));
        let (_, _, since) = get(&b, "/api/v1/negotiations?created_since=2001-01-01T00:00:00Z&created_until=2999-01-01T00:00:00Z").await;
        assert_eq!(ids(since.as_array().unwrap()), ids(&all));

        // Transfers show and filter by their dataset, on both sides.
        let (_, _, roads) = get(
            &b,
            "/api/v1/transfers?dataset=urn:ldt:paging:roads&state=STARTED",
        )
        .await;
        assert_eq!(
            ids(roads.as_array().unwrap()),
            [first.consumer_transfer.as_str()]
        );
        assert_eq!(roads[0]["dataset"], "urn:ldt:paging:roads");
        let (_, _, one) = get(
            &b,
            &format!("/api/v1/transfers/{}", second.consumer_transfer),
        )
        .await;
        assert_eq!(one["dataset"], "urn:ldt:paging:trees");
        let (_, _, provided) = get(
            &a,
            &format!(
                "/api/v1/transfers?role=provider&partner={}&dataset=urn:ldt:paging:trees",
                enc(CITY_B)
            ),
        )
        .await;
        assert_eq!(
            ids(provided.as_array().unwrap()),
            [second.provider_transfer.as_str()]
        );
        assert_eq!(provided[0]["dataset"], "urn:ldt:paging:trees");
        let both = all_pages(&b, "/api/v1/transfers?limit=1", 1).await;
        assert_eq!(
            ids(&both),
            [
                first.consumer_transfer.clone(),
                second.consumer_transfer.clone()
            ]
        );
        let (_, _, none) = get(&b, "/api/v1/transfers?state=SUSPENDED").await;
        assert_eq!(none, json!([]));

        // Agreements: by dataset, role and partner.
        let (_, _, trees) = get(&b, "/api/v1/agreements?dataset=urn:ldt:paging:trees").await;
        assert_eq!(trees.as_array().unwrap().len(), 1);
        assert_eq!(trees[0]["agreement"]["@id"], second.agreement_id.as_str());
        let ours = all_pages(
            &b,
            &format!(
                "/api/v1/agreements?role=consumer&partner={}&limit=1",
                enc(CITY_A)
            ),
            1,
        )
        .await;
        assert_eq!(ours.len(), 2);
        let (_, _, none) = get(&b, "/api/v1/agreements?role=provider").await;
        assert_eq!(none, json!([]));
        let (_, _, provided) = get(&a, "/api/v1/agreements?role=provider").await;
        assert_eq!(provided.as_array().unwrap().len(), 2);

        assert_eq!(
            refused(&b, "/api/v1/negotiations?state=DONE&colour=red").await,
            ["colour", "state"]
        );
        assert_eq!(
            refused(&b, "/api/v1/transfers?state=FINALIZED&role=buyer").await,
            ["state", "role"]
        );
        assert_eq!(
            refused(&b, "/api/v1/transfers?created_since=2026-13-01T00:00:00Z").await,
            ["created_since"]
        );
        assert_eq!(
            refused(&b, "/api/v1/agreements?state=FINALIZED").await,
            ["state"]
        );
        let (_, headers, _) = get(&b, "/api/v1/transfers?limit=1").await;
        let cursor = next_page(&headers).unwrap();
        let cursor = cursor.split("cursor=").nth(1).unwrap();
        assert_eq!(
            refused(&b, &format!("/api/v1/resources?cursor={cursor}")).await,
            ["cursor"],
            "a cursor belongs to its list"
        );

        // A transfer requested through the API answers with its address.
        let r = b
            .management(Method::POST, "/api/v1/transfers")
            .json(&json!({"agreement_id": first.agreement_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let created: Value = r.json().await.unwrap();
        assert_eq!(
            location,
            format!("/api/v1/transfers/{}", enc(created["id"].as_str().unwrap()))
        );
        let (status, _, read) = get(&b, &location).await;
        assert_eq!((status, &read["id"]), (200, &created["id"]));
        assert_eq!(read["dataset"], "urn:ldt:paging:roads");
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_wrong_method_or_a_trailing_slash_is_answered_as_a_problem() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let r = a
        .management(Method::DELETE, "/api/v1/negotiations")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let allow = r.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(
        problem["type"],
        "https://w3id.org/twinport/problems/method-not-allowed"
    );
    assert_eq!(problem["status"], 405);
    assert!(
        problem["detail"].as_str().unwrap().contains("GET"),
        "{problem}"
    );

    for target in [
        "/api/v1/resources/",
        "/api/v1/negotiations/",
        "/api/v1/no-such-thing",
        "/api/v1/",
    ] {
        let r = a.management(Method::GET, target).send().await.unwrap();
        assert_eq!(r.status(), 404, "{target}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{target}"
        );
        let problem: Value = r.json().await.unwrap();
        assert_eq!(
            problem["type"], "https://w3id.org/twinport/problems/not-found",
            "{target}"
        );
        if target.ends_with('/') && target.len() > "/api/v1/".len() {
            assert!(
                problem["detail"].as_str().unwrap().contains("trailing"),
                "{target}: {problem}"
            );
        }
    }

    // DSP paths answer in DSP's own error messages.
    let dsp = a.dsp_base();
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{dsp}/catalog/request"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["@type"], "CatalogError", "{body}");
    let r = client
        .post(format!("{dsp}/negotiations/request/"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["@type"], "ContractNegotiationError", "{body}");
    a.running.stop().await;
    b.running.stop().await;
}
