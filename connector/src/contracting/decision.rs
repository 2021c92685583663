//! Policy decisions for the connector: the ODRL engine with this city's Rego rules (`rules/<scope>/*.rego` in the
//! catalogue directory) and its policy time zone, and what the connector knows about a partner, a resource and a
//! request, handed to the policy library's request builder, the one that `twinport policy simulate`, `test` and
//! the dry run use too. The connector never shapes a request context itself.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use twinport_policy::context::ResourceContext;
use twinport_policy::context::{CounterpartyContext, DutyState};
use twinport_policy::request::{self, Facts, Flow};
use twinport_policy::zone::PolicyZone;
use twinport_policy::{
    ComplianceReport, Engine, EngineSettings, Policy, RegoRules, RequestContext, Scope,
};

use crate::catalogue::Resource;
use crate::config::PartnerConfig;
use crate::storage::{AgreementRecord, StorageError, Store};

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

/// One decision: the context the request builder made, and the engine's report on it.
#[derive(Debug, Clone)]
pub struct Decided {
    pub context: RequestContext,
    pub report: ComplianceReport,
}

impl Decided {
    /// The compliance report with the context it was decided on, as the process history keeps it for the
    /// operator and auditors (the audit log holds its digest).
    pub fn recorded(&self) -> String {
        let mut v = serde_json::to_value(&self.report).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "context".into(),
                serde_json::to_value(&self.context).unwrap_or_default(),
            );
        }
        v.to_string()
    }
}

/// The settings the connector decides with. Duties bind once agreed: an attribution or deletion duty is fulfilled
/// after use, so only a duty recorded as violated blocks (the SolidLab reading); everything else fails closed.
/// Dates, days and times of day are read in `zone` unless a policy names its own.
pub fn connector_settings(zone: &PolicyZone) -> EngineSettings {
    EngineSettings {
        time_zone: zone.name().to_string(),
        ..EngineSettings::solidlab()
    }
}

impl PolicyService {
    /// Loads `dir/rules/<scope>/*.rego`; a missing directory means no local rules.
    pub fn load(catalogue_dir: &Path, zone: &PolicyZone) -> Result<PolicyService, RuleLoadError> {
        let rules = load_rules(catalogue_dir)?;
        let count = rules.1;
        let engine = Engine::new(connector_settings(zone)).with_rego(rules.0);
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

    /// The engine, with the connector's settings and Rego rules.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Decides on a stored policy (or an offer or agreement body) in `scope`, on the context the request builder
    /// makes from `facts`. A policy that no longer reads denies, with why as the reason.
    pub fn decide(&self, policy: &Value, scope: Scope, facts: &Facts) -> Decided {
        self.decide_parsed(&parse(policy), scope, facts)
    }

    /// [`PolicyService::decide`] for a policy parsed once with [`parse`] and decided on many times (an
    /// agreement on every data-plane request).
    pub fn decide_parsed(
        &self,
        policy: &Result<Policy, String>,
        scope: Scope,
        facts: &Facts,
    ) -> Decided {
        match policy {
            Ok(p) => {
                let context = request::build(scope, facts, p);
                let report = self.engine.evaluate(p, &context, scope);
                self.decisions.record(scope, &report.decision);
                Decided { context, report }
            }
            Err(e) => Decided {
                context: RequestContext::default(),
                report: self.unreadable(scope, e),
            },
        }
    }

    /// Evaluates a stored policy on a context written by hand (the dry run's `context`).
    pub fn evaluate(&self, policy: &Value, ctx: &RequestContext, scope: Scope) -> ComplianceReport {
        match parse(policy) {
            Ok(p) => {
                let report = self.engine.evaluate(&p, ctx, scope);
                self.decisions.record(scope, &report.decision);
                report
            }
            Err(e) => self.unreadable(scope, &e),
        }
    }

    fn unreadable(&self, scope: Scope, e: &str) -> ComplianceReport {
        let report = ComplianceReport::denied(
            None,
            scope,
            "unreadable-policy",
            format!("deny: the policy cannot be read ({e})"),
        );
        self.decisions.record(scope, &report.decision);
        report
    }
}

/// The city's Rego rules, and how many files they came from.
pub fn load_rules(catalogue_dir: &Path) -> Result<(RegoRules, usize), RuleLoadError> {
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
    Ok((rules, count))
}

/// The policy an agreement is enforced under. On the provider's side it is the stored policy version the agreement
/// was made under: the very text that was linted, tested, simulated and decided on at negotiation, whose offered
/// form the agreement carries (and versions never change). Without that record (an agreement where we are the
/// consumer, or made before versions were recorded), the agreement as signed.
pub async fn agreed_policy(store: &Store, a: &AgreementRecord) -> Result<Value, StorageError> {
    if let (Some(id), Some(v)) = (&a.policy_id, a.policy_version) {
        if let Some(body) = store.policy_version(id, v).await?.and_then(|p| p.body) {
            return Ok(body);
        }
        tracing::error!(agreement = %a.id, policy = %id, version = v,
            "the policy version an agreement was made under is missing; enforcing the agreement as signed");
    }
    let mut body = a.body.clone();
    body["@type"] = serde_json::json!("Agreement");
    Ok(body)
}

/// A stored policy as the engine reads it, or why it cannot be read (which denies).
pub fn parse(policy: &Value) -> Result<Policy, String> {
    Policy::from_json(policy).map_err(|e| e.to_string())
}

/// What the connector knows about a request for a decision about `partner` and `resource`.
pub struct FactsInput<'a> {
    pub partner_id: &'a str,
    pub partner: Option<&'a PartnerConfig>,
    /// What a policy may read of the resource ([`resource_context`], or a kept listing's).
    pub resource: Option<ResourceContext>,
    pub purpose: Option<&'a str>,
    /// The agreement's id and when it was concluded (transfers and accesses).
    pub agreement: Option<(&'a str, &'a str)>,
    /// Accesses made under the agreement before this one.
    pub accesses: Option<u64>,
    pub flow: Option<Flow>,
    /// The HTTP method of one pull request.
    pub method: Option<&'a str>,
    /// The states the city has recorded for the agreement's duties.
    pub duties: BTreeMap<String, DutyState>,
}

/// The facts the request builder shapes for each scope, with the connector's clock as the time of the decision.
pub fn facts(input: FactsInput<'_>) -> Facts {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Facts {
        partner: Some(CounterpartyContext {
            id: Some(input.partner_id.to_string()),
            claims: input.partner.map(|p| p.claims.clone()).unwrap_or_default(),
            ..Default::default()
        }),
        resource: input.resource,
        purpose: input.purpose.map(str::to_string),
        at: Some(now),
        agreed_at: input.agreement.map(|(_, start)| start.to_string()),
        agreement: input.agreement.map(|(id, _)| id.to_string()),
        flow: input.flow,
        method: input.method.map(str::to_string),
        accesses: input.accesses,
        duties: input.duties,
    }
}

/// A catalogue resource as policies see it.
pub fn resource_context(r: &Resource) -> ResourceContext {
    ResourceContext {
        id: Some(r.id.clone()),
        kind: Some(r.kind.as_str().to_string()),
        stage: r.stage.map(|s| s.as_str().to_string()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn partner() -> PartnerConfig {
        PartnerConfig {
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
        }
    }

    #[test]
    fn the_facts_carry_everything_the_connector_knows() {
        let resource = crate::catalogue::resource::parse_resource(json!({
            "id": "urn:ldt:city-a:traffic", "kind": "dataset", "stage": "raw", "title": "Traffic counts",
            "description": "Vehicles per hour.",
            "distributions": [{"format": "application/json", "backend": "http://platform:1026/traffic"}],
            "offers": [{"policy": "open"}]
        }))
        .expect("valid resource");
        let partner = partner();
        let f = facts(FactsInput {
            partner_id: &partner.id,
            partner: Some(&partner),
            resource: Some(resource_context(&resource)),
            purpose: Some("https://w3id.org/dpv#AcademicResearch"),
            agreement: Some(("urn:agreement:1", "2026-11-24T08:00:00Z")),
            accesses: Some(3),
            flow: Some(Flow::Pull),
            method: Some("GET"),
            duties: BTreeMap::from([("attribute".to_string(), DutyState::Fulfilled)]),
        });
        let mut shown = serde_json::to_value(&f).expect("serializes");
        assert!(shown["at"].as_str().is_some_and(|t| t.ends_with('Z')));
        shown.as_object_mut().map(|m| m.remove("at"));
        assert_eq!(
            shown,
            json!({
                "partner": {"id": "https://city-b.example/twinport", "claims": {"region": "NL", "member": true}},
                "resource": {"id": "urn:ldt:city-a:traffic", "kind": "dataset", "stage": "raw"},
                "purpose": "https://w3id.org/dpv#AcademicResearch",
                "agreedAt": "2026-11-24T08:00:00Z",
                "agreement": "urn:agreement:1",
                "flow": "pull",
                "method": "GET",
                "accesses": 3,
                "duties": {"attribute": "fulfilled"}
            })
        );
    }

    #[test]
    fn an_unreadable_policy_denies_with_why() {
        let service = PolicyService {
            engine: Engine::new(connector_settings(&PolicyZone::utc())),
            rule_count: 0,
            decisions: Default::default(),
        };
        let d = service.decide(
            &json!({"permission": [{"action": "use", "constraints": []}]}),
            Scope::Access,
            &Facts::default(),
        );
        assert!(!d.report.is_permit());
        assert!(
            d.report.summary.contains("did you mean \"constraint\""),
            "{}",
            d.report.summary
        );
    }
}
