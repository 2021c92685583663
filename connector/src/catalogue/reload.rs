//! The catalogue directory read again while the connector runs (SIGHUP), and the rule both a start and a reload
//! apply to file policies whose file is gone. Unlike a start, a reload never stops on one bad file: a policy file
//! with lint errors is refused and the version in force stays; a bad resource file leaves the resources as they
//! were; everything else is applied. Policies are never rewritten: a change adds a version, a retirement a
//! tombstone, so history (and what agreements were made under) stays readable.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::files::{self, CatalogueError};
use super::public;
use super::resource::FieldError;
use crate::storage::{ResourceSource, StorageError, Store};

/// What a reload of the catalogue directory did, by id.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CatalogueChange {
    pub policies_added: Vec<String>,
    pub policies_changed: Vec<String>,
    /// Policy files refused (id, every lint error as `field: problem`); the version in force stays.
    pub policies_refused: Vec<(String, Vec<String>)>,
    pub retired: Retired,
    pub resources_added: Vec<String>,
    pub resources_changed: Vec<String>,
    pub resources_removed: Vec<String>,
    /// Why the resource files were not applied (the resources stay as they were), if they were not.
    pub resources_refused: Option<String>,
}

/// File policies whose file is gone: retired (a tombstone version), or kept because offers still name them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Retired {
    pub retired: Vec<String>,
    /// (policy, the resources whose offers name it)
    pub kept: Vec<(String, Vec<String>)>,
}

/// Reads `dir` again and applies what changed. Fails (changing nothing) only when the directory itself cannot be
/// read, or on a storage error.
pub async fn reload(
    store: &Store,
    dir: &std::path::Path,
    info: &crate::config::CatalogueInfo,
) -> Result<CatalogueChange, ReloadError> {
    if !dir.is_dir() {
        return Err(CatalogueError::MissingDirectory(dir.display().to_string()).into());
    }
    let mut change = CatalogueChange::default();
    let paths = files::policy_files(dir)?;
    let mut on_disk = HashSet::new();
    for path in &paths {
        on_disk.insert(files::policy_id(path));
        match files::read_policy(path) {
            Ok((id, body)) => match store.policy(&id).await? {
                Some(p) if p.body == body && p.source == ResourceSource::File => {}
                existing => {
                    store.put_policy(&id, ResourceSource::File, &body).await?;
                    if existing.is_some() {
                        change.policies_changed.push(id);
                    } else {
                        change.policies_added.push(id);
                    }
                }
            },
            Err(e) => change
                .policies_refused
                .push((files::policy_id(path), problems(&e))),
        }
    }
    match resources(store, dir, info).await? {
        Ok(rows) => apply_resources(store, rows, &mut change).await?,
        Err(e) => change.resources_refused = Some(e.to_string()),
    }
    change.retired = retire_orphans(store, &on_disk).await?;
    Ok(change)
}

/// Retires every file policy with no file in `on_disk` (ids) that no offer names; the others are kept and named.
pub async fn retire_orphans(
    store: &Store,
    on_disk: &HashSet<String>,
) -> Result<Retired, StorageError> {
    let mut out = Retired::default();
    let orphans: Vec<String> = store
        .policies()
        .await?
        .into_iter()
        .filter(|p| p.source == ResourceSource::File && !on_disk.contains(&p.id))
        .map(|p| p.id)
        .collect();
    if orphans.is_empty() {
        return Ok(out);
    }
    let offered = super::resources(store).await?;
    for id in orphans {
        let users: Vec<String> = offered
            .iter()
            .filter(|r| r.offers.iter().any(|o| o.policy == id))
            .map(|r| r.id.clone())
            .collect();
        if users.is_empty() {
            store.delete_policy(&id, ResourceSource::File).await?;
            out.retired.push(id);
        } else {
            out.kept.push((id, users));
        }
    }
    Ok(out)
}

/// Logs what the retirement rule did; shared by the start and the reload.
pub fn log_retired(retired: &Retired) {
    if !retired.retired.is_empty() {
        tracing::info!(policies = ?retired.retired, "file policies whose file was removed are retired (their history stays)");
    }
    for (id, users) in &retired.kept {
        tracing::warn!(policy = %id, offered_by = ?users,
            "the policy's file was removed but offers still name it: it stays until those offers change");
    }
}

/// The resource files, checked as at start (publishable, every offer naming a policy in force), as rows.
async fn resources(
    store: &Store,
    dir: &std::path::Path,
    info: &crate::config::CatalogueInfo,
) -> Result<Result<Vec<(String, String, Value)>, CatalogueError>, StorageError> {
    let declared = match files::load_resources(dir) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let known: HashSet<String> = store.policies().await?.into_iter().map(|p| p.id).collect();
    let mut rows = Vec::with_capacity(declared.len());
    for (path, resource) in declared {
        let mut problems = public::publishable_problems(&resource, info);
        for (i, offer) in resource.offers.iter().enumerate() {
            if !known.contains(&offer.policy) {
                problems.push(FieldError {
                    field: format!("offers[{i}].policy"),
                    problem: format!(
                        "no policy {:?} (add policies/{}.json)",
                        offer.policy, offer.policy
                    ),
                });
            }
        }
        if !problems.is_empty() {
            return Ok(Err(CatalogueError::Invalid {
                path: path.display().to_string(),
                problems,
            }));
        }
        let body = serde_json::to_value(&resource).unwrap_or(Value::Null);
        rows.push((resource.id.clone(), resource.kind.to_string(), body));
    }
    Ok(Ok(rows))
}

async fn apply_resources(
    store: &Store,
    rows: Vec<(String, String, Value)>,
    change: &mut CatalogueChange,
) -> Result<(), StorageError> {
    let before: HashMap<String, Value> = store
        .resources()
        .await?
        .into_iter()
        .filter(|r| r.source == ResourceSource::File)
        .map(|r| (r.id, r.body))
        .collect();
    let wanted: HashSet<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    for (id, _, body) in &rows {
        match before.get(id) {
            None => change.resources_added.push(id.clone()),
            Some(old) if old != body => change.resources_changed.push(id.clone()),
            Some(_) => {}
        }
    }
    change.resources_removed = before
        .keys()
        .filter(|id| !wanted.contains(id.as_str()))
        .cloned()
        .collect();
    change.resources_removed.sort();
    let changed = !(change.resources_added.is_empty()
        && change.resources_changed.is_empty()
        && change.resources_removed.is_empty());
    // Replacing unchanged rows would move the catalogue version and throw away every kept partner view.
    if changed {
        store.replace_file_resources(&rows).await?;
    }
    Ok(())
}

fn problems(e: &CatalogueError) -> Vec<String> {
    match e {
        CatalogueError::Invalid { problems, .. } => {
            problems.iter().map(ToString::to_string).collect()
        }
        other => vec![other.to_string()],
    }
}

/// Why a reload of the catalogue changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::test_support::stores;

    const POLICY: &str = r#"{"permission": [{"action": "use"}]}"#;

    fn info() -> crate::config::CatalogueInfo {
        crate::config::Config::from_toml(
            "participant_id = \"https://c.example\"\nsigning_key = \"key.pem\"\nmanagement_token = \"t0123456789abcdef0123456789\"",
            std::path::Path::new("/tmp"),
            &[],
        )
        .map(|c| c.catalogue)
        .expect("minimal config")
    }

    fn resource(id: &str, policy: &str) -> String {
        format!(
            r#"{{"id": "{id}", "kind": "dataset", "stage": "raw", "title": "T", "description": "D",
               "distributions": [{{"format": "application/json", "backend": "http://platform/x"}}],
               "offers": [{{"policy": "{policy}"}}]}}"#
        )
    }

    fn write(dir: &std::path::Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[tokio::test]
    async fn a_reload_applies_changes_refuses_bad_policies_and_retires_unused_ones() {
        for (store, _db) in stores().await {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            write(d, "policies/open.json", POLICY);
            write(d, "policies/spare.json", POLICY);
            write(d, "resources/a.json", &resource("urn:r:a", "open"));
            let first = reload(&store, d, &info()).await.unwrap();
            assert_eq!(first.policies_added, ["open", "spare"]);
            assert_eq!(first.resources_added, ["urn:r:a"]);

            let again = reload(&store, d, &info()).await.unwrap();
            assert_eq!(again, CatalogueChange::default(), "nothing changed");

            // A policy with a lint error is refused and the version in force stays.
            write(
                d,
                "policies/open.json",
                r#"{"permission": [{"action": "use", "bogus": 1}]}"#,
            );
            std::fs::remove_file(d.join("policies/spare.json")).unwrap();
            write(d, "resources/b.json", &resource("urn:r:b", "open"));
            let second = reload(&store, d, &info()).await.unwrap();
            assert_eq!(second.policies_refused.len(), 1, "{second:?}");
            assert_eq!(second.policies_refused[0].0, "open");
            assert!(
                second.policies_refused[0]
                    .1
                    .iter()
                    .any(|m| m.contains("bogus")),
                "{second:?}"
            );
            assert_eq!(
                store.policy("open").await.unwrap().unwrap().body,
                serde_json::from_str::<Value>(POLICY).unwrap()
            );
            assert_eq!(second.resources_added, ["urn:r:b"]);
            assert_eq!(second.retired.retired, ["spare"]);
            assert!(store.policy("spare").await.unwrap().is_none());
            assert_eq!(
                store.policy_history("spare").await.unwrap().len(),
                2,
                "history kept"
            );

            // A policy file removed while an offer names it is kept, and named.
            write(d, "policies/open.json", POLICY);
            std::fs::remove_file(d.join("policies/open.json")).unwrap();
            let third = reload(&store, d, &info()).await.unwrap();
            assert_eq!(third.retired.kept.len(), 1);
            assert_eq!(third.retired.kept[0].1, ["urn:r:a", "urn:r:b"]);
            assert!(store.policy("open").await.unwrap().is_some());

            // A bad resource file leaves the resources as they were.
            write(d, "policies/open.json", POLICY);
            write(d, "resources/c.json", "{not json");
            let fourth = reload(&store, d, &info()).await.unwrap();
            assert!(fourth.resources_refused.is_some());
            assert_eq!(store.resources().await.unwrap().len(), 2);
            std::fs::remove_file(d.join("resources/c.json")).unwrap();
            std::fs::remove_file(d.join("resources/b.json")).unwrap();
            let fifth = reload(&store, d, &info()).await.unwrap();
            assert_eq!(fifth.resources_removed, ["urn:r:b"]);
        }
    }
}
