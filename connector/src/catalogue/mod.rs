//! The LDT resource catalogue (MIM8): resources of five kinds with their offers, declared in files or through the
//! management API, stored, and published to partners as DCAT-AP inside the DSP catalogue.

pub mod dcat;
pub mod descriptor;
pub mod files;
pub mod filter;
pub mod kind;
pub mod listing;
pub mod metadata;
pub mod policy_doc;
pub mod public;
pub mod reload;
pub mod resource;

use std::collections::HashMap;

use serde_json::Value;

pub use files::CatalogueError;
pub use kind::{DatasetStage, ResourceKind};
pub use listing::Listing;
pub use resource::{Distribution, FieldError, NgsiLdSettings, Resource};

use crate::storage::{ResourceSource, StorageError, Store};

/// Loads the catalogue directory into storage: file resources replace the previous file resources, file policies
/// add a version when they changed. Every offer must name a policy that exists after loading.
pub async fn load_into(
    store: &Store,
    dir: &std::path::Path,
    info: &crate::config::CatalogueInfo,
) -> Result<usize, LoadError> {
    let declared = files::load(dir)?;
    for (path, resource) in &declared.resources {
        let problems = public::publishable_problems(resource, info);
        if !problems.is_empty() {
            return Err(LoadError::Catalogue(CatalogueError::Invalid {
                path: path.display().to_string(),
                problems,
            }));
        }
    }
    for (id, body) in &declared.policies {
        store.put_policy(id, ResourceSource::File, body).await?;
    }
    let known: HashMap<String, Value> = store
        .policies()
        .await?
        .into_iter()
        .map(|p| (p.id, p.body))
        .collect();
    // Policies stored through the API by an earlier version may not pass today's checks; the engine refuses to
    // read them (every decision under them denies), and the operator should hear why now, not at the first
    // partner's request.
    for (id, body) in &known {
        let errors = policy_doc::check(body).errors;
        if let Some(first) = errors.first() {
            tracing::error!(policy = %id, field = %first.field, errors = errors.len(),
                "stored policy fails the policy checks, so every decision under it denies: {}", first.problem);
        }
    }
    for (path, resource) in &declared.resources {
        for (i, offer) in resource.offers.iter().enumerate() {
            if !known.contains_key(&offer.policy) {
                return Err(LoadError::Catalogue(CatalogueError::Invalid {
                    path: path.display().to_string(),
                    problems: vec![FieldError {
                        field: format!("offers[{i}].policy"),
                        problem: format!(
                            "no policy {:?} (add policies/{}.json)",
                            offer.policy, offer.policy
                        ),
                    }],
                }));
            }
        }
    }
    let rows: Vec<(String, String, Value)> = declared
        .resources
        .iter()
        .map(|(_, r)| {
            (
                r.id.clone(),
                r.kind.to_string(),
                serde_json::to_value(r).unwrap_or(Value::Null),
            )
        })
        .collect();
    store.replace_file_resources(&rows).await?;
    // A policy whose file was removed while the connector was stopped goes the way a reload retires it.
    let on_disk = declared.policies.iter().map(|(id, _)| id.clone()).collect();
    reload::log_retired(&reload::retire_orphans(store, &on_disk).await?);
    Ok(rows.len())
}

/// Why the catalogue could not be loaded at start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Every stored resource, parsed. A row that no longer parses is skipped and logged rather than taking the whole
/// catalogue down.
pub async fn resources(store: &Store) -> Result<Vec<Resource>, StorageError> {
    // Parsed from the stored text straight into resources: a JSON tree of 10 000 resources first would take
    // several times their size in memory, if only for a moment.
    let mut resources = Vec::new();
    store
        .each_resource_body(|id, body| match serde_json::from_str::<Resource>(body) {
            Ok(r) => resources.push(r),
            Err(e) => {
                tracing::error!(resource = %id, error = %e, "stored resource no longer parses; not published")
            }
        })
        .await?;
    // Kept for as long as the catalogue is unchanged: the doubling slack would be a quarter of it on average.
    resources.shrink_to_fit();
    Ok(resources)
}

/// Every stored resource as the catalogue views keep it, in id order (a row at a time, as [`resources`]).
pub async fn listings(store: &Store) -> Result<Vec<Listing>, StorageError> {
    let mut listings = Vec::new();
    store
        .each_resource_body(|id, body| match serde_json::from_str::<Listing>(body) {
            Ok(l) => listings.push(l),
            Err(e) => {
                tracing::error!(resource = %id, error = %e, "stored resource no longer parses; not published")
            }
        })
        .await?;
    listings.shrink_to_fit();
    Ok(listings)
}

/// The stored resources `ids`, parsed, by id: those that no longer exist or parse are left out.
pub async fn resources_by_id(
    store: &Store,
    ids: &[String],
) -> Result<HashMap<String, Resource>, StorageError> {
    Ok(store
        .resource_bodies(ids)
        .await?
        .into_iter()
        .filter_map(|(id, body)| match serde_json::from_str::<Resource>(&body) {
            Ok(r) => Some((id, r)),
            Err(e) => {
                tracing::error!(resource = %id, error = %e, "stored resource no longer parses; not published");
                None
            }
        })
        .collect())
}

/// One stored resource, parsed; `None` when there is none by that id (or its row no longer parses, as in
/// [`resources`]).
pub async fn resource(store: &Store, id: &str) -> Result<Option<Resource>, StorageError> {
    let Some(row) = store.resource(id).await? else {
        return Ok(None);
    };
    Ok(match serde_json::from_value::<Resource>(row.body) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::error!(resource = %row.id, error = %e, "stored resource no longer parses; not published");
            None
        }
    })
}

/// Policy id → current body, for publishing offers.
pub async fn policy_bodies(store: &Store) -> Result<HashMap<String, Value>, StorageError> {
    Ok(store
        .policies()
        .await?
        .into_iter()
        .map(|p| (p.id, p.body))
        .collect())
}
