//! The audit log against real databases (SQLite always, PostgreSQL with `TWINPORT_TEST_DATABASE_URL`): durability,
//! proofs, receipts, database-enforced append-only tables, erasure, and detection of every kind of tampering.

use serde_json::json;
use twinport_contracts::transparency::merkle::{self, verify_consistency, verify_inclusion, Hash};
use twinport_contracts::transparency::note::NoteSigner;
use twinport_contracts::transparency::proof::Receipt;

use super::verify::verify_store;
use super::*;
use crate::storage::test_support::stores;
use crate::storage::Backend;

const ORIGIN: &str = "city-a.example/audit";

fn event(n: u64) -> AuditEvent {
    let mut e = AuditEvent::new(EventKind::DspMessageReceived, json!({"n": n}));
    e.partner = Some(format!("partner-{}", n % 3));
    e
}

async fn hashes(store: &Store, n: u64) -> Vec<Hash> {
    store
        .audit_entries_from(0, n)
        .await
        .expect("entries")
        .iter()
        .map(|e| merkle::leaf_hash(e.leaf.as_bytes()))
        .collect()
}

#[tokio::test]
async fn concurrent_appends_are_durable_provable_and_survive_reopen() {
    for (store, _db) in stores().await {
        let dir = tempfile::tempdir().expect("dir");
        let log = AuditLog::open(&store, dir.path(), ORIGIN)
            .await
            .expect("open");
        let tasks: Vec<_> = (0..300)
            .map(|n| {
                let log = log.clone();
                tokio::spawn(async move { log.append(event(n)).await })
            })
            .collect();
        let mut indices = Vec::new();
        for t in tasks {
            indices.push(t.await.expect("joined").expect("appended"));
        }
        indices.sort_unstable();
        assert_eq!(indices, (0..300).collect::<Vec<u64>>());

        let cp = log.checkpoint().await.expect("checkpoint");
        assert_eq!(cp.checkpoint.size, 300);
        let leaves = hashes(&store, 300).await;
        assert_eq!(cp.checkpoint.root, merkle::root(&leaves));
        for i in [0u64, 1, 150, 299] {
            let p = log.inclusion_proof(i, 300).await.expect("proof");
            verify_inclusion(i, 300, &leaves[i as usize], &p, &cp.checkpoint.root)
                .expect("included");
        }
        let p = log.consistency_proof(100, 300).await.expect("proof");
        verify_consistency(
            100,
            300,
            &p,
            &merkle::root(&leaves[..100]),
            &cp.checkpoint.root,
        )
        .expect("consistent");
        assert!(log.inclusion_proof(300, 300).await.is_err());
        assert!(log.consistency_proof(10, 301).await.is_err());

        let receipt = Receipt::parse(&log.receipt(42).await.expect("receipt")).expect("parses");
        receipt
            .verify(&leaves[42], ORIGIN, &[log.verifier()])
            .expect("receipt verifies");

        let report = verify_store(&store, ORIGIN, &log.verifier())
            .await
            .expect("verifies");
        assert_eq!((report.entries, report.signed_size), (300, 300));

        let vkey = log.verifier();
        drop(log);
        let again = AuditLog::open(&store, dir.path(), ORIGIN)
            .await
            .expect("reopen");
        assert_eq!(again.size(), 300);
        assert_eq!(again.verifier(), vkey);
        assert_eq!(again.latest_checkpoint(), Some(cp));
        assert_eq!(again.append(event(300)).await.expect("append"), 300);
    }
}

#[tokio::test]
async fn the_database_refuses_updates_and_deletes() {
    for (store, _db) in stores().await {
        let dir = tempfile::tempdir().expect("dir");
        let log = AuditLog::open(&store, dir.path(), ORIGIN)
            .await
            .expect("open");
        log.append(event(0)).await.expect("append");
        log.checkpoint().await.expect("checkpoint");
        for sql in [
            "UPDATE audit_entries SET kind = 'forged'",
            "DELETE FROM audit_entries",
            "UPDATE audit_checkpoints SET note = 'forged'",
            "DELETE FROM audit_checkpoints",
        ] {
            let err = sqlx::query(sql).execute(store.pool()).await.expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        if store.backend() == Backend::Postgres {
            let err = sqlx::query("TRUNCATE audit_entries")
                .execute(store.pool())
                .await
                .expect_err("truncate");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        verify_store(&store, ORIGIN, &log.verifier())
            .await
            .expect("still intact");
    }
}

#[tokio::test]
async fn erasure_removes_personal_data_and_proofs_still_verify() {
    for (store, _db) in stores().await {
        let dir = tempfile::tempdir().expect("dir");
        let log = AuditLog::open(&store, dir.path(), ORIGIN)
            .await
            .expect("open");
        let mut e = AuditEvent::new(
            EventKind::ManagementAction,
            json!({"action": "resource.create"}),
        );
        e.personal = Some(json!({"subject": "jane.doe@city-a.example"}));
        let idx = log.append(e).await.expect("append");
        let cp = log.checkpoint().await.expect("checkpoint");
        let entry = store
            .audit_entries_from(idx, 1)
            .await
            .expect("entry")
            .remove(0);
        assert!(!entry.leaf.contains("jane"));
        let leaf: serde_json::Value = serde_json::from_str(&entry.leaf).expect("json");
        let c = leaf["personal"]
            .as_str()
            .and_then(|s| s.strip_prefix("sha256:"))
            .expect("commitment");
        let (salt, body) = store
            .audit_personal(c)
            .await
            .expect("read")
            .expect("present");
        assert!(body.contains("jane.doe"));
        assert_eq!(
            commitment(&hex::decode(salt).expect("hex"), body.as_bytes()),
            c
        );

        assert!(store.audit_erase_personal(c).await.expect("erase"));
        assert_eq!(store.audit_personal(c).await.expect("read"), None);
        let p = log
            .inclusion_proof(idx, cp.checkpoint.size)
            .await
            .expect("proof");
        verify_inclusion(
            idx,
            cp.checkpoint.size,
            &merkle::leaf_hash(entry.leaf.as_bytes()),
            &p,
            &cp.checkpoint.root,
        )
        .expect("proof survives erasure");
        verify_store(&store, ORIGIN, &log.verifier())
            .await
            .expect("log still verifies");
    }
}

/// Builds a 20-entry log with checkpoints at 10 and 20, then lifts the append-only triggers so a test can tamper.
async fn tamperable(store: &Store, dir: &Path) -> (AuditLog, NoteVerifier) {
    let log = AuditLog::open(store, dir, ORIGIN).await.expect("open");
    for n in 0..20 {
        log.append(event(n)).await.expect("append");
        if n == 9 {
            log.checkpoint().await.expect("checkpoint");
        }
    }
    log.checkpoint().await.expect("checkpoint");
    let drops: &[&str] = match store.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER audit_entries_no_update",
            "DROP TRIGGER audit_entries_no_delete",
            "DROP TRIGGER audit_checkpoints_no_update",
            "DROP TRIGGER audit_checkpoints_no_delete",
        ],
        Backend::Postgres => &[
            "DROP TRIGGER audit_entries_append_only ON audit_entries",
            "DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints",
        ],
    };
    for sql in drops {
        sqlx::query(sql).execute(store.pool()).await.expect(sql);
    }
    let key = log.verifier();
    (log, key)
}

async fn run(store: &Store, sql: &str, binds: &[String]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(b.clone());
    }
    q.execute(store.pool()).await.expect(sql);
}

/// A forged leaf for `n` with its matching hash, as an attacker with database access would write it.
fn forged(n: u64) -> (String, String) {
    let leaf = prepare(event(n + 1000), time::OffsetDateTime::now_utc()).expect("leaf");
    (leaf.leaf, hex::encode(leaf.hash))
}

fn receipt_row(id: &str) -> ReceiptRow {
    use twinport_contracts::receipt::{AccessReceipt, RECEIPT_TYPE};
    ReceiptRow::Issued(AccessReceipt {
        receipt_type: RECEIPT_TYPE.into(),
        request_id: id.into(),
        provider: "https://a.example".into(),
        consumer: "p".into(),
        agreement_id: "urn:uuid:1".into(),
        transfer_id: "t".into(),
        method: "GET".into(),
        path: String::new(),
        status: 200,
        bytes: 0,
        sha256: String::new(),
        complete: true,
        started_at: String::new(),
        finished_at: String::new(),
        audit_index: None,
        request: None,
    })
}

fn stored_index(body: &str) -> u64 {
    serde_json::from_str::<serde_json::Value>(body).unwrap()["auditIndex"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn receipts_are_committed_with_their_entries_and_name_their_index() {
    for (store, _db) in stores().await {
        let dir = tempfile::tempdir().expect("dir");
        let log = AuditLog::open(&store, dir.path(), ORIGIN)
            .await
            .expect("open");
        let appends: Vec<_> = (0..50)
            .map(|n| {
                let log = log.clone();
                tokio::spawn(async move {
                    let index = log
                        .append_with_receipt(event(n), receipt_row(&format!("r{n}")), true)
                        .await
                        .expect("appended");
                    (n, index)
                })
            })
            .collect();
        for a in appends {
            let (n, index) = a.await.expect("joined");
            let r = store
                .receipt(&format!("r{n}"))
                .await
                .unwrap()
                .expect("stored");
            assert_eq!(stored_index(&r.body), index);
            assert_eq!(r.partner, "p");
            let leaf = log.verified_leaf(index).await.unwrap().expect("entry");
            assert!(leaf.contains(&format!("\"n\":{n}")), "{leaf}");
        }

        // A receipt that cannot be stored takes its entry with it (one transaction), and the log carries on.
        let size = log.size();
        let err = log
            .append_with_receipt(event(99), receipt_row("r1"), true)
            .await
            .expect_err("a duplicate request id");
        assert!(matches!(err, AuditError::Write(_)), "{err}");
        assert_eq!(log.size(), size, "no entry without its receipt");
        let first_r1 = store
            .audit_entries_from(0, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.leaf.contains("\"n\":1}"))
            .unwrap()
            .index;
        assert_eq!(
            stored_index(&store.receipt("r1").await.unwrap().unwrap().body),
            first_r1,
            "the stored receipt is untouched"
        );
        let next = log.append(event(100)).await.expect("the log carries on");
        assert_eq!(next, size);
        log.checkpoint().await.expect("checkpoint");
        verify_store(&store, ORIGIN, &log.verifier())
            .await
            .expect("verifies");
    }
}

#[tokio::test]
async fn a_served_access_waits_to_share_a_commit_and_an_entry_someone_waits_on_ends_the_wait() {
    for (store, _db) in stores().await {
        let dir = tempfile::tempdir().expect("dir");
        // A wait far longer than any step here, so nothing below depends on the machine's speed.
        let log = AuditLog::open_lingering(
            &store,
            dir.path(),
            ORIGIN,
            std::time::Duration::from_secs(60),
        )
        .await
        .expect("open");
        let batches = log.batches_written();
        let served: Vec<_> = (0..40)
            .map(|n| {
                let log = log.clone();
                tokio::spawn(async move {
                    log.append_with_receipt(event(n), receipt_row(&format!("w{n}")), true)
                        .await
                        .expect("appended")
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            served.iter().all(|s| !s.is_finished()),
            "nobody waits on a served access: it is held for others to share its commit"
        );
        assert_eq!(log.batches_written(), batches, "nothing committed yet");

        // A refusal is recorded before it is answered: it ends the wait, and all commit together.
        let started = std::time::Instant::now();
        let urgent = log.append(event(40)).await.expect("appended");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "an entry someone waits on must not wait out the linger"
        );
        let mut indices = vec![urgent];
        for s in served {
            indices.push(s.await.expect("joined"));
        }
        assert_eq!(log.batches_written() - batches, 1, "one commit for all 41");
        indices.sort_unstable();
        assert_eq!(
            indices,
            (0..41).collect::<Vec<u64>>(),
            "each has its own index"
        );
        for n in 0..40 {
            assert!(store.receipt(&format!("w{n}")).await.unwrap().is_some());
        }
        log.checkpoint().await.expect("checkpoint");
        verify_store(&store, ORIGIN, &log.verifier())
            .await
            .expect("verifies");
    }
}

#[tokio::test]
async fn a_leaf_rewritten_with_its_hash_is_never_served_as_verified() {
    for (store, _db) in stores().await {
        let dir = tempfile::tempdir().expect("dir");
        let (log, _) = tamperable(&store, dir.path()).await;
        let genuine = log
            .verified_leaf(12)
            .await
            .expect("reads")
            .expect("entry 12");
        assert!(genuine.contains("\"n\":12"), "{genuine}");
        assert_eq!(
            log.verified_leaf(20).await.expect("reads"),
            None,
            "no entry 20"
        );
        let (leaf, hash) = forged(12);
        run(
            &store,
            "UPDATE audit_entries SET leaf = $1, leaf_hash = $2 WHERE idx = 12",
            &[leaf, hash],
        )
        .await;
        let err = log.verified_leaf(12).await.expect_err("a rewritten leaf");
        assert!(err.to_string().contains("entry 12"), "{err}");
    }
}

#[tokio::test]
async fn every_tampering_of_stored_rows_is_detected_and_named() {
    // Range-level findings name the entries between the two checkpoints around the change; the writer may sign
    // extra checkpoints while the test runs, so only the finding itself is asserted for those.
    type Case = (&'static str, &'static str);
    let cases: [Case; 7] = [
        (
            "edit",
            "entry 3: content does not match its stored leaf hash",
        ),
        ("edit-with-hash", "do not match the signed checkpoint"),
        ("delete", "entry 5: missing"),
        ("insert", "do not match the signed checkpoint"),
        ("reorder", "do not match the signed checkpoint"),
        (
            "truncate",
            "log truncated: the signed checkpoint covers 20 entries, only 18 are present",
        ),
        ("replace-checkpoint", "no trusted key signed the note"),
    ];
    for (case, expected) in cases {
        for (store, _db) in stores().await {
            let dir = tempfile::tempdir().expect("dir");
            let (_log, key) = tamperable(&store, dir.path()).await;
            match case {
                "edit" => {
                    run(&store, "UPDATE audit_entries SET leaf = REPLACE(leaf, '\"n\":3', '\"n\":4') WHERE idx = 3", &[]).await
                }
                "edit-with-hash" => {
                    let (leaf, hash) = forged(12);
                    run(&store, "UPDATE audit_entries SET leaf = $1, leaf_hash = $2 WHERE idx = 12", &[leaf, hash]).await
                }
                "delete" => run(&store, "DELETE FROM audit_entries WHERE idx = 5", &[]).await,
                "insert" => {
                    run(&store, "UPDATE audit_entries SET idx = idx + 1000 WHERE idx >= 15", &[]).await;
                    run(&store, "UPDATE audit_entries SET idx = idx - 999 WHERE idx >= 1000", &[]).await;
                    let (leaf, hash) = forged(15);
                    run(
                        &store,
                        "INSERT INTO audit_entries (idx, logged_at, kind, leaf, leaf_hash) VALUES (15, 'x', 'forged', $1, $2)",
                        &[leaf, hash],
                    )
                    .await
                }
                "reorder" => {
                    run(&store, "UPDATE audit_entries SET idx = 1000 WHERE idx = 12", &[]).await;
                    run(&store, "UPDATE audit_entries SET idx = 12 WHERE idx = 13", &[]).await;
                    run(&store, "UPDATE audit_entries SET idx = 13 WHERE idx = 1000", &[]).await
                }
                "truncate" => run(&store, "DELETE FROM audit_entries WHERE idx >= 18", &[]).await,
                "replace-checkpoint" => {
                    let other = NoteSigner::generate(ORIGIN).expect("key");
                    let leaves = hashes(&store, 20).await;
                    let cp = twinport_contracts::transparency::checkpoint::Checkpoint {
                        origin: ORIGIN.into(),
                        size: 20,
                        root: merkle::root(&leaves),
                    };
                    let note = SignedCheckpoint::sign(cp, &other).expect("signed").note;
                    run(&store, "UPDATE audit_checkpoints SET note = $1 WHERE size = 20", &[note]).await
                }
                other => panic!("unknown case {other}"),
            }
            let err = verify_store(&store, ORIGIN, &key).await.expect_err(case);
            assert!(
                err.to_string().contains(expected),
                "{case} on {:?}: {err}",
                store.backend()
            );
            assert!(
                AuditLog::open(&store, dir.path(), ORIGIN).await.is_err(),
                "{case}: a tampered log must not open"
            );
        }
    }
}

#[tokio::test]
async fn exports_verify_offline_and_every_tampering_of_an_export_is_named() {
    for (store, _db) in stores().await {
        let dir = tempfile::tempdir().expect("dir");
        let log = AuditLog::open(&store, dir.path(), ORIGIN)
            .await
            .expect("open");
        for n in 0..20 {
            log.append(event(n)).await.expect("append");
            if n == 9 {
                log.checkpoint().await.expect("checkpoint");
            }
        }
        log.checkpoint().await.expect("checkpoint");
        let mut out = Vec::new();
        assert_eq!(
            export::write_jsonl(&store, ORIGIN, &log.verifier(), &mut out)
                .await
                .expect("export"),
            20
        );
        let text = String::from_utf8(out).expect("utf-8");
        let verify = |t: &str| export::verify_jsonl(&mut t.as_bytes(), Some(&log.verifier()));
        let (report, _) = verify(&text).expect("clean export verifies");
        assert_eq!((report.entries, report.signed_size), (20, 20));

        let lines: Vec<&str> = text.lines().collect();
        let first_entry = lines
            .iter()
            .position(|l| l.starts_with("{\"entry\"") || l.contains("\"index\""))
            .expect("entries");
        let at = |i: usize| first_entry + i;
        let join = |ls: Vec<String>| ls.join("\n") + "\n";
        let owned = || lines.iter().map(|l| l.to_string()).collect::<Vec<String>>();

        let mut edited = owned();
        edited[at(3)] = edited[at(3)].replace("\"n\":3", "\"n\":4");
        let mut deleted = owned();
        deleted.remove(at(5));
        let mut swapped = owned();
        swapped.swap(at(12), at(13));
        let mut truncated = owned();
        truncated.truncate(at(18));
        let mut recheckpointed = owned();
        let other = NoteSigner::generate(ORIGIN).expect("key");
        let forged = SignedCheckpoint::sign(
            twinport_contracts::transparency::checkpoint::Checkpoint {
                origin: ORIGIN.into(),
                size: 20,
                root: [0; 32],
            },
            &other,
        )
        .expect("signed");
        let last_cp = first_entry - 1;
        recheckpointed[last_cp] = json!({ "checkpoint": forged.note }).to_string();
        for (name, tampered, expected) in [
            ("edit", join(edited), "entry 3: content does not match"),
            ("delete", join(deleted), "entry 5: missing"),
            (
                "reorder",
                join(swapped),
                "entry 12: missing or out of order",
            ),
            ("truncate", join(truncated), "log truncated"),
            (
                "replace checkpoint",
                join(recheckpointed),
                "no trusted key signed the note",
            ),
        ] {
            let err = verify(&tampered).expect_err(name);
            assert!(err.to_string().contains(expected), "{name}: {err}");
        }
        let stranger = NoteSigner::generate(ORIGIN).expect("key").verifier();
        assert!(export::verify_jsonl(&mut text.as_bytes(), Some(&stranger)).is_err());
    }
}

#[tokio::test]
async fn prov_export_links_declared_derivations_and_names_no_person() {
    for (store, _db) in stores().await {
        let dir = tempfile::tempdir().expect("dir");
        let log = AuditLog::open(&store, dir.path(), ORIGIN)
            .await
            .expect("open");
        let output = json!({
            "id": "urn:ldt:city-a:flood-forecast", "kind": "dataset", "stage": "model-output",
            "title": "Flood forecast", "description": "Water levels expected in the next 48 hours.",
            "distributions": [{"format": "application/json", "backend": "http://127.0.0.1:9/forecast"}],
            "offers": [{"policy": "partner-use"}],
            "derived_from": ["https://city-b.example/datasets/rainfall"]
        });
        let resource =
            crate::catalogue::resource::parse_resource(output.clone()).expect("valid resource");
        let mut circular = output.clone();
        circular["derived_from"] = json!(["urn:ldt:city-a:flood-forecast", "not an iri"]);
        let errors = crate::catalogue::resource::parse_resource(circular).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["derived_from[0]", "derived_from[1]"]);
        store
            .put_resource(
                &resource.id,
                "dataset",
                crate::storage::ResourceSource::Api,
                &output,
            )
            .await
            .expect("stored");
        let mut e = AuditEvent::new(
            EventKind::ManagementAction,
            json!({"action": "resource.create"}),
        );
        e.resource = Some(resource.id.clone());
        e.personal = Some(json!({"subject": "jane.doe@city-a.example"}));
        log.append(e).await.expect("append");
        log.checkpoint().await.expect("checkpoint");

        let mut out = Vec::new();
        prov::write_prov(
            &store,
            ORIGIN,
            &log.verifier(),
            "https://city-a.example/twinport",
            &mut out,
        )
        .await
        .expect("prov");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(!text.contains("jane"));
        let doc: serde_json::Value = serde_json::from_str(&text).expect("json-ld");
        let graph = doc["@graph"].as_array().expect("graph");
        let derived = graph
            .iter()
            .find(|n| n["@id"] == "urn:ldt:city-a:flood-forecast")
            .expect("output entity");
        assert_eq!(
            derived["prov:wasDerivedFrom"],
            json!([{"@id": "https://city-b.example/datasets/rainfall"}])
        );
        assert!(graph.iter().any(|n| n["@type"] == "prov:Activity"
            && n["prov:used"] == json!([{"@id": "urn:ldt:city-a:flood-forecast"}])));
        assert!(graph.iter().any(|n| n["@type"] == "prov:Person"));
    }
}
