//! Policy decisions for the connector: the ODRL engine with this city's Rego rules (`rules/<scope>/*.rego` in the
//! catalogue directory), and the request context built from what the connector knows about a partner and a
//! resource.

use std::path::Path;

use serde_json::{json, Value};
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

pub fn context(input: ContextInput<'_>) -> RequestContext {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut ctx = json!({
        "time": now,
        "action": input.action,
        "counterparty": {
            "id": input.partner_id,
            "claims": input.partner.map(|p| Value::Object(p.claims.clone())).unwrap_or_else(|| json!({})),
        },
    });
    if let Some(r) = input.resource {
        let mut res = json!({"id": r.id, "kind": r.kind.as_str()});
        if let Some(stage) = r.stage {
            res["stage"] = json!(stage.as_str());
        }
        ctx["resource"] = res;
    }
    if let Some(purpose) = input.purpose {
        ctx["purpose"] = json!(purpose);
    }
    if let Some((id, start)) = input.agreement {
        ctx["agreement"] = json!({"id": id, "start": start});
    }
    if let Some(count) = input.count {
        ctx["usage"] = json!({"count": count});
    }
    serde_json::from_value(ctx).unwrap_or_default()
}
