//! A contact point as the catalogue publishes it (DCAT `contactPoint`, a vCard; OGC API Records `contacts`; CSW
//! provider contact): the catalogue's own in `[catalogue.contact_point]`, and each resource's.

use serde::{Deserialize, Serialize};

use crate::iri::is_web_url;

/// Whom to ask about a resource (DCAT `contactPoint`, a vCard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPoint {
    /// A team or role rather than a person, so the record outlives staff changes.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl ContactPoint {
    /// Problems with the contact, each as (`prefix.<field>`, what is wrong).
    pub fn problems(&self, prefix: &str) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push(problem(format!("{prefix}.name"), "must not be empty"));
        }
        if let Some(email) = &self.email {
            // Published as a `mailto:` IRI: no spaces, quotes or angle brackets, one `@`, a dotted host.
            let ok = email.split_once('@').is_some_and(|(user, host)| {
                !user.is_empty() && host.contains('.') && !host.contains('@')
            }) && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"<>()[]\\,;:".contains(c))
                && crate::iri::iri_problem(&format!("mailto:{email}")).is_none();
            if !ok {
                problems.push(problem(
                    format!("{prefix}.email"),
                    format!("not an e-mail address: {email:?}"),
                ));
            }
        }
        if let Some(url) = &self.url {
            if !is_web_url(url) {
                problems.push(problem(format!("{prefix}.url"), "must be an http(s) URL"));
            }
        }
        if self.email.is_none() && self.url.is_none() {
            problems.push(problem(
                prefix.to_string(),
                "give an email or a url, so a reader can reach the contact",
            ));
        }
        problems
    }
}

fn problem(name: impl Into<String>, text: impl Into<String>) -> (String, String) {
    (name.into(), text.into())
}
