//! Two replicas of the provider share one PostgreSQL database (same config, same keys): the consumer's messages
//! reach both, every outbox message goes out exactly once (counted on a recording proxy in front of the consumer),
//! all negotiations and transfers finish, and the shared audit log verifies with one consistent order, whichever
//! replica signed each checkpoint. Runs only when `TWINPORT_TEST_DATABASE_URL` is set.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport::cli::init::write_connector_dir;
use twinport::config::Config;
use twinport_contracts::identity::KeyAlgorithm;
use twinport_e2e::proxy::Recorder;
use twinport_e2e::{postgres_url, start_negotiation, wait_for_state, City, CITY_A, CITY_B};

const T: Duration = Duration::from_secs(20);
const DATASET: &str = "urn:ldt:sample-city:traffic-counts";
const OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";

fn append(path: &Path, text: &str) {
    let mut current = std::fs::read_to_string(path).unwrap();
    current.push_str(text);
    std::fs::write(path, current).unwrap();
}

async fn start(
    dir: tempfile::TempDir,
    key: twinport_contracts::identity::SigningKey,
    edit: impl FnOnce(&mut Config),
) -> City {
    let mut config = Config::load(&dir.path().join("twinport.toml")).unwrap();
    edit(&mut config);
    let management_token = config
        .management_token
        .clone()
        .expect("development config has a management token");
    let id = config.participant_id.clone();
    let running = twinport::app::start(config).await.expect("starts");
    City {
        id,
        running,
        key,
        management_token,
        dir,
    }
}

#[tokio::test]
async fn two_provider_replicas_share_one_postgresql_database() {
    if std::env::var("TWINPORT_TEST_DATABASE_URL").is_err() {
        println!("skipped: TWINPORT_TEST_DATABASE_URL is not set");
        return;
    }
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let w = |dir: &Path, id: &str, alg| {
        write_connector_dir(
            dir,
            id,
            alg,
            "127.0.0.1:0",
            "127.0.0.1:0",
            "http://127.0.0.1:9",
            "",
        )
        .unwrap()
    };
    let key_a = w(dir_a.path(), CITY_A, KeyAlgorithm::EdDsa);
    let key_b = w(dir_b.path(), CITY_B, KeyAlgorithm::Es256);
    append(
        &dir_a.path().join("twinport.toml"),
        &twinport::cli::pair::partner_toml(CITY_B, &key_b.jwks()).unwrap(),
    );
    append(
        &dir_b.path().join("twinport.toml"),
        &twinport::cli::pair::partner_toml(CITY_A, &key_a.jwks()).unwrap(),
    );
    let to_b = Recorder::start().await;
    let db = postgres_url().await;

    // Replica 1 creates the schema and the audit log key; replica 2 runs from the same directory and database.
    let a1 = start(dir_a, key_a.clone(), |c| c.storage_url = db.clone()).await;
    let dir_a2 = tempfile::tempdir().unwrap();
    std::fs::copy(
        a1.dir.path().join("twinport.toml"),
        dir_a2.path().join("twinport.toml"),
    )
    .unwrap();
    let a_config = a1.running.state.config().clone();
    let a2 = start(dir_a2, key_a, |c| {
        c.storage_url = db.clone();
        c.signing_key_path = a_config.signing_key_path.clone();
        c.catalogue_dir = a_config.catalogue_dir.clone();
        c.data_dir = a_config.data_dir.clone();
    })
    .await;
    assert_eq!(
        a1.running.state.audit().verifier(),
        a2.running.state.audit().verifier()
    );

    let b = start(dir_b, key_b, |c| {
        c.public_url = Some(to_b.url.clone());
        if let Some(p) = c.partners.iter_mut().find(|p| p.id == CITY_A) {
            p.url = Some(a1.running.public_url().to_string());
        }
    })
    .await;
    to_b.forward_to(&format!("http://{}", b.running.dsp_addr));
    for a in [&a1, &a2] {
        a.running.state.set_partner_url(CITY_B, &to_b.url);
    }

    // Negotiations through replica 1, then through replica 2; each provider replica's outbox may send the answers.
    let mut ids = Vec::new();
    for replica in [&a1, &a2] {
        b.running
            .state
            .set_partner_url(CITY_A, replica.running.public_url());
        let batch: Vec<String> = {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(start_negotiation(&b, CITY_A, DATASET, OFFER, None).await);
            }
            v
        };
        for id in &batch {
            wait_for_state(&b, id, "FINALIZED", T).await;
        }
        ids.extend(batch);
    }
    // Transfers for every agreement, alternating the replica that receives the request.
    let mut transfers = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let replica = if i % 2 == 0 { &a1 } else { &a2 };
        b.running
            .state
            .set_partner_url(CITY_A, replica.running.public_url());
        let n: Value = b
            .management(Method::GET, &format!("/api/v1/negotiations/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let agreement = n["agreement_id"].as_str().unwrap_or_else(|| panic!("{n}"));
        let t: Value = b
            .management(Method::POST, "/api/v1/transfers")
            .json(&json!({"agreement_id": agreement}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        transfers.push(
            t["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{t}"))
                .to_string(),
        );
    }
    for t in &transfers {
        wait_for_state(&b, t, "STARTED", T).await;
    }
    // Let the provider replicas finish recording their deliveries.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Exactly once: every provider message to the consumer crossed the proxy once.
    let seen = to_b.exchanges();
    let count = |suffix: &str| {
        seen.iter()
            .filter(|e| e.method == "POST" && e.path.ends_with(suffix))
            .count()
    };
    assert_eq!(count("/agreement"), ids.len(), "agreements: {seen:#?}");
    assert_eq!(count("/events"), ids.len(), "FINALIZED events");
    assert_eq!(count("/start"), transfers.len(), "transfer starts");
    assert!(
        seen.iter().all(|e| e.status < 300 || e.method == "GET"),
        "{seen:#?}"
    );
    // Both replicas did receive consumer messages.
    for replica in [&a1, &a2] {
        let store = replica.running.state.store();
        assert!(!store.negotiations().await.unwrap().is_empty());
    }

    // One log, one order: every checkpoint either replica signed verifies against the single stored tree.
    let a_store = a1.running.state.store().clone();
    let origin = a1.running.state.audit().origin().to_owned();
    let c1 = a1.running.state.audit().checkpoint().await.unwrap();
    let c2 = a2.running.state.audit().checkpoint().await.unwrap();
    let report = twinport::audit::verify::verify_store(
        &a_store,
        &origin,
        &a1.running.state.audit().verifier(),
    )
    .await
    .expect("shared audit log verifies");
    assert!(report.checkpoints >= 2);
    assert!(report.signed_size >= c1.checkpoint.size.max(c2.checkpoint.size));
    let sent = a_store
        .audit_query(&twinport::audit::EntryFilter {
            kind: Some("dsp_message_sent".into()),
            limit: Some(10_000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        sent.len(),
        2 * ids.len() + transfers.len(),
        "one dsp_message_sent entry per delivered message"
    );

    // A suspension recorded through one replica stops the other's data plane at its very next request: what a
    // replica's data plane keeps in memory stands only while the shared generation in the database is unchanged.
    let consumer_side = b
        .running
        .state
        .store()
        .transfer(&transfers[0])
        .await
        .unwrap()
        .unwrap();
    let pid = consumer_side.provider_pid.clone().unwrap();
    let token = twinport_e2e::pull_token(&b, &consumer_side.id).await;
    let pull = || {
        reqwest::Client::new()
            .get(format!("{}/data/{pid}", a2.running.public_url()))
            .bearer_auth(&token)
            .send()
    };
    let before = pull().await.unwrap().status();
    assert!(
        before != 401 && before != 409,
        "served (or the absent backend failed) before the suspension: {before}"
    );
    let provider_side =
        twinport_e2e::transfer_where(&a1, |t| t.provider_pid.as_deref() == Some(pid.as_str()))
            .await;
    let r = a1
        .management(
            Method::POST,
            &format!("/api/v1/transfers/{}/suspend", provider_side.id),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let after = pull().await.unwrap();
    assert_eq!(
        after.status(),
        409,
        "replica 2 still serves a transfer replica 1 suspended: {}",
        after.text().await.unwrap()
    );

    b.running.stop().await;
    a2.running.stop().await;
    a1.running.stop().await;
}
