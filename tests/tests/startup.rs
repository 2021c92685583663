//! Start-up refuses what it cannot serve correctly: a malformed catalogue file stops the connector with the file
//! and field named, before any port is bound, and what was stored stays as it was.

use twinport::config::Config;
use twinport_e2e::{city_pair, Storage};

#[tokio::test]
async fn a_bad_resource_file_stops_start_and_changes_nothing() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let config_path = a.config_path();
    let stored_before: Vec<String> = twinport::catalogue::resources(a.running.state.store())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    a.running.stop().await;

    let bad = a.dir.path().join("catalogue/resources/broken.toml");
    std::fs::write(
        &bad,
        "id = \"urn:ldt:broken\"\nkind = \"dataset\"\ntitle = \"Broken\"\n[[distributions]]\nformat = \"application/json\"\nbackend = \"nowhere\"\n[[offers]]\npolicy = \"partner-use\"\n",
    )
    .unwrap();
    let error = match twinport::app::start(Config::load(&config_path).unwrap()).await {
        Ok(_) => panic!("a broken catalogue must stop start-up"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("broken.toml"), "{error}");
    assert!(error.contains("stage: required"), "{error}");
    assert!(error.contains("distributions[0].backend"), "{error}");

    std::fs::remove_file(&bad).unwrap();
    let restarted = twinport::app::start(Config::load(&config_path).unwrap())
        .await
        .unwrap();
    let stored_after: Vec<String> = twinport::catalogue::resources(restarted.state.store())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(stored_before, stored_after);
    restarted.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn an_offer_naming_a_missing_policy_is_refused() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let config_path = a.config_path();
    a.running.stop().await;
    let path = a.dir.path().join("catalogue/resources/traffic-counts.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("policy = \"partner-use\"", "policy = \"typo\"");
    std::fs::write(&path, text).unwrap();
    let error = match twinport::app::start(Config::load(&config_path).unwrap()).await {
        Ok(_) => panic!("must not start"),
        Err(e) => e.to_string(),
    };
    assert!(
        error.contains("traffic-counts.toml") && error.contains("offers[0].policy"),
        "{error}"
    );
    b.running.stop().await;
}

#[tokio::test]
async fn a_missing_key_or_taken_port_is_named() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let mut config = Config::load(&a.config_path()).unwrap();
    config.listen = a.running.dsp_addr;
    let error = twinport::app::start(config)
        .await
        .err()
        .expect("port taken")
        .to_string();
    assert!(error.starts_with("listen: cannot listen on"), "{error}");
    let mut config = Config::load(&a.config_path()).unwrap();
    config.signing_key_path = a.dir.path().join("nope.pem");
    let error = twinport::app::start(config)
        .await
        .err()
        .expect("no key")
        .to_string();
    assert!(error.starts_with("signing_key: cannot read"), "{error}");
    a.running.stop().await;
    b.running.stop().await;
}
