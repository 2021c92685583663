//! Policy decisions for the connector: the ODRL engine with this city's Rego rules (`rules/<scope>/*.rego` in the
//! catalogue directory), and the request context built from what the connector knows about a partner and a
//! resource.

use std::path::Path;

use serde_json::Value;
use twinport_policy::context::{
    AgreementContext, CounterpartyContext, ResourceContext, UsageContext,
};
use twinport_policy::{
    ComplianceReport, Engine, EngineSettings, Policy, RegoRules, RequestContext, Scope,
};

use crate::catalogue::Resource;
use crate::config::PartnerConfig;

/// The engine as the connector runs it.
#[derive(Debug, Clone)]
pub struct PolicyService {
    engine: Engine,
    rule_count: usize,
    decisions: crate::telemetry::metrics::DecisionMetrics,
}

/// A Rego rule file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RuleLoadError {
    pub path: String,
    pub message: String,
}

/// The settings the connector decides with. Duties bind once agreed: an attribution or deletion duty is fulfilled
/// after use, so only a duty recorded as violated blocks (the SolidLab reading); everything else fails closed.
pub fn connector_settings() -> EngineSettings {
    EngineSettings::solidlab()
}

impl PolicyService {
    /// Loads `dir/rules/<scope>/*.rego`; a missing directory means no local rules.
    pub fn load(catalogue_dir: &Path) -> Result<PolicyService, RuleLoadError> {
        let mut rules = RegoRules::new();
        let mut count = 0;
        for scope in Scope::ALL {
            let dir = catalogue_dir.join("rules").join(scope.as_str());
            if !dir.is_dir() {
                continue;
            }
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .map_err(|e| RuleLoadError {
                    path: dir.display().to_string(),
                    message: e.to_string(),
                })?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "rego"))
                .collect();
            files.sort();
            for path in files {
                let source = std::fs::read_to_string(&path).map_err(|e| RuleLoadError {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("rule");
                rules.add(scope, name, &source).map_err(|e| RuleLoadError {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                count += 1;
            }
        }
        let engine = Engine::new(connector_settings()).with_rego(rules);
        Ok(PolicyService {
            engine,
            rule_count: count,
            decisions: Default::default(),
        })
    }

    /// Counts every decision from now on into `decisions` (the connector's `/metrics`).
    pub fn counted_in(mut self, decisions: crate::telemetry::metrics::DecisionMetrics) -> Self {
        self.decisions = decisions;
        self
    }

    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    /// Evaluates a stored policy (or an offer or agreement body) in `scope`. A policy that no longer parses denies,
    /// with the parse error as the reason.
    pub fn evaluate(&self, policy: &Value, ctx: &RequestContext, scope: Scope) -> ComplianceReport {
        self.evaluate_parsed(&parse(policy), ctx, scope)
    }

    /// [`PolicyService::evaluate`] for a policy parsed once with [`parse`] and decided on many times (an
    /// agreement on every data-plane request).
    pub fn evaluate_parsed(
        &self,
        policy: &Result<Policy, String>,
        ctx: &RequestContext,
        scope: Scope,
    ) -> ComplianceReport {
        let report = match policy {
            Ok(p) => self.engine.evaluate(p, ctx, scope),
            Err(e) => ComplianceReport {
                policy_id: None,
                scope,
                decision: twinport_policy::Decision::Deny,
                deciding_rules: vec!["unreadable-policy".into()],
                summary: format!("deny: the policy cannot be read ({e})"),
                rules: Vec::new(),
                rego: None,
            },
        };
        self.decisions.record(scope, &report.decision);
        report
    }
}

/// A stored policy as the engine reads it, or why it cannot be read (which denies).
pub fn parse(policy: &Value) -> Result<Policy, String> {
    Policy::from_json(policy).map_err(|e| e.to_string())
}

/// What the connector knows for a decision about `partner` and `resource`.
pub struct ContextInput<'a> {
    pub partner_id: &'a str,
    pub partner: Option<&'a PartnerConfig>,
    pub resource: Option<&'a Resource>,
    pub action: &'a str,
    pub purpose: Option<&'a str>,
    pub agreement: Option<(&'a str, &'a str)>,
    pub count: Option<u64>,
}

/// Built field by field: it was built as JSON and deserialized, 3 % of the data plane's CPU per request (twice the
/// decision itself), with an empty context as the silent fallback had that ever failed.
pub fn context(input: ContextInput<'_>) -> RequestContext {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    RequestContext {
        time: Some(now),
        action: Some(input.action.to_string()),
        counterparty: Some(CounterpartyContext {
            id: Some(input.partner_id.to_string()),
            claims: input.partner.map(|p| p.claims.clone()).unwrap_or_default(),
            ..Default::default()
        }),
        resource: input.resource.map(|r| ResourceContext {
            id: Some(r.id.clone()),
            kind: Some(r.kind.as_str().to_string()),
            stage: r.stage.map(|s| s.as_str().to_string()),
            ..Default::default()
        }),
        purpose: input.purpose.map(str::to_string),
        agreement: input.agreement.map(|(id, start)| AgreementContext {
            id: Some(id.to_string()),
            start: Some(start.to_string()),
        }),
        usage: input.count.map(|count| UsageContext { count: Some(count) }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_context_carries_everything_the_connector_knows_in_the_documented_shape() {
        let resource = crate::catalogue::resource::parse_resource(json!({
            "id": "urn:ldt:city-a:traffic", "kind": "dataset", "stage": "raw", "title": "Traffic counts",
            "distributions": [{"format": "application/json", "backend": "http://platform:1026/traffic"}],
            "offers": [{"policy": "open"}]
        }))
        .expect("valid resource");
        let partner = PartnerConfig {
            id: "https://city-b.example/twinport".into(),
            name: None,
            url: None,
            keys: crate::config::PartnerKeys::Url {
                url: "https://city-b.example/jwks".into(),
                cache_for: std::time::Duration::from_secs(60),
            },
            claims: json!({"region": "NL", "member": true})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        let ctx = context(ContextInput {
            partner_id: &partner.id,
            partner: Some(&partner),
            resource: Some(&resource),
            action: "use",
            purpose: Some("research"),
            agreement: Some(("urn:agreement:1", "2026-11-24T08:00:00Z")),
            count: Some(3),
        });
        let mut shown = serde_json::to_value(&ctx).expect("serializes");
        assert!(shown["time"].as_str().is_some_and(|t| t.ends_with('Z')));
        shown.as_object_mut().map(|m| m.remove("time"));
        assert_eq!(
            shown,
            json!({
                "action": "use",
                "counterparty": {"id": "https://city-b.example/twinport", "claims": {"region": "NL", "member": true}},
                "resource": {"id": "urn:ldt:city-a:traffic", "kind": "dataset", "stage": "raw"},
                "purpose": "research",
                "agreement": {"id": "urn:agreement:1", "start": "2026-11-24T08:00:00Z"},
                "usage": {"count": 3}
            })
        );

        // Nothing known beyond the partner: no resource, purpose, agreement or usage, and no claims.
        let bare = context(ContextInput {
            partner_id: "https://unknown.example",
            partner: None,
            resource: None,
            action: "read",
            purpose: None,
            agreement: None,
            count: None,
        });
        assert_eq!(
            bare.counterparty,
            Some(twinport_policy::context::CounterpartyContext {
                id: Some("https://unknown.example".into()),
                ..Default::default()
            })
        );
        assert!(bare.resource.is_none() && bare.purpose.is_none() && bare.usage.is_none());
    }
}
