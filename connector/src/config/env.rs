//! `TWINPORT_...` environment overrides. Only the documented keys are read, so unrelated variables that share the
//! prefix (for example `TWINPORT_TEST_DATABASE_URL` in CI) never break a deployment.

use super::ConfigError;

/// Environment variable → top-level key (or `section.key`) it overrides.
pub const OVERRIDES: &[(&str, &str)] = &[
    ("TWINPORT_PARTICIPANT_ID", "participant_id"),
    ("TWINPORT_PUBLIC_URL", "public_url"),
    ("TWINPORT_LISTEN", "listen"),
    ("TWINPORT_MANAGEMENT_LISTEN", "management_listen"),
    ("TWINPORT_LOCAL_LISTEN", "local_listen"),
    ("TWINPORT_DATA_DIR", "data_dir"),
    ("TWINPORT_STORAGE_URL", "storage_url"),
    ("TWINPORT_SIGNING_KEY", "signing_key"),
    ("TWINPORT_CATALOGUE_DIR", "catalogue_dir"),
    ("TWINPORT_MANAGEMENT_TOKEN", "management_token"),
    ("TWINPORT_LOG_FORMAT", "log_format"),
    (
        "TWINPORT_BACKEND_TIMEOUT_SECONDS",
        "backend_timeout_seconds",
    ),
    ("TWINPORT_CATALOGUE_TITLE", "catalogue.title"),
    ("TWINPORT_CATALOGUE_PUBLISHER_ID", "catalogue.publisher_id"),
    (
        "TWINPORT_CATALOGUE_PUBLISHER_NAME",
        "catalogue.publisher_name",
    ),
];

pub fn apply_overrides(
    doc: &mut toml::Table,
    vars: &[(String, String)],
) -> Result<(), ConfigError> {
    for (var, key) in OVERRIDES {
        let Some((_, value)) = vars.iter().find(|(name, _)| name == var) else {
            continue;
        };
        let value = toml::Value::String(value.clone());
        match key.split_once('.') {
            None => {
                doc.insert((*key).to_string(), value);
            }
            Some((section, field)) => {
                let entry = doc
                    .entry(section.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let table = entry.as_table_mut().ok_or_else(|| ConfigError::Invalid {
                    key: section.to_string(),
                    problem: format!("must be a table to apply {var}"),
                })?;
                table.insert(field.to_string(), value);
            }
        }
    }
    Ok(())
}
