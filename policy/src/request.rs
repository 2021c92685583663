//! One request builder per scope. What the connector knows about a request (the partner and its attested claims,
//! the resource, the declared purpose, the clock, the agreement, the accesses so far, what the request does) is
//! shaped here, and only here, into the request context the engine decides on. The running connector,
//! `twinport policy eval`/`test`/`simulate` and the dry-run endpoint all call this module, so a legal team's
//! test and the connector's decision cannot be made on different contexts.
//!
//! Which action is asked in which scope:
//! - `catalogue` and `negotiation`: the actions the offer grants (each permission's action), any one of which will
//!   do: may the partner see, and agree to, an offer it could obtain something from?
//! - `transfer`: what the transfer will do: a pull reads the resource (or executes a model or service), a push
//!   distributes it to the consumer;
//! - `access`: what one request does: GET/HEAD read, POST executes a model or service and uses anything else,
//!   PUT/PATCH modify, DELETE deletes; every pushed delivery distributes.

use crate::context::{
    AgreementContext, CounterpartyContext, DutyState, RequestContext, RequestedAction,
    ResourceContext, UsageContext,
};
use crate::engine::Scope;
use crate::model::Policy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the data of a transfer flows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// The consumer pulls from the provider's data plane (`HttpData-PULL`).
    #[default]
    Pull,
    /// The provider pushes to the consumer's endpoint (`HttpData-PUSH`).
    Push,
}

/// What the connector knows about a request, before it is shaped for one scope. Every field is optional; what
/// is absent is absent from the context too (and a condition that needs it fails closed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Facts {
    /// The partner asking: its participant id and the claims this connector attests for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<CounterpartyContext>,
    /// The resource asked for (id, kind, stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceContext>,
    /// The purpose the partner declared when negotiating (or for one data-plane request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// When the decision is made (RFC 3339): the connector's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// When the agreement was concluded (RFC 3339), for transfers and accesses; at negotiation the agreement
    /// starts at `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreed_at: Option<String>,
    /// The agreement's id, for transfers and accesses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
    /// How data flows under the transfer: `pull` (default) or `push`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<Flow>,
    /// The HTTP method of one pull request (access scope); `GET` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Accesses already made under the agreement before this one; 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accesses: Option<u64>,
    /// What the city has recorded about the agreement's duties (transfers and accesses), by duty `@id` or
    /// action name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub duties: BTreeMap<String, DutyState>,
}

/// The actions the policy's permissions grant, in order, each once.
pub fn granted_actions(policy: &Policy) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rule in &policy.permissions {
        if let Some(a) = rule.action.as_ref().or(policy.action.as_ref()) {
            if !out.contains(&a.name) {
                out.push(a.name.clone());
            }
        }
    }
    out
}

fn is_model(facts: &Facts) -> bool {
    facts
        .resource
        .as_ref()
        .and_then(|r| r.kind.as_deref())
        .is_some_and(|k| k == "model-or-service")
}

/// The action one request performs (access scope).
pub fn access_action(facts: &Facts) -> &'static str {
    if facts.flow == Some(Flow::Push) {
        return "distribute";
    }
    let method = facts.method.as_deref().unwrap_or("GET");
    match method.to_ascii_uppercase().as_str() {
        "GET" | "HEAD" | "OPTIONS" => "read",
        "POST" if is_model(facts) => "execute",
        "PUT" | "PATCH" => "modify",
        "DELETE" => "delete",
        _ => "use",
    }
}

/// The action(s) asked in `scope` (see the module documentation).
pub fn requested_action(scope: Scope, facts: &Facts, policy: &Policy) -> Option<RequestedAction> {
    match scope {
        Scope::Catalogue | Scope::Negotiation => {
            let granted = granted_actions(policy);
            (!granted.is_empty()).then_some(RequestedAction::AnyOf(granted))
        }
        Scope::Transfer => Some(match facts.flow.unwrap_or_default() {
            Flow::Push => RequestedAction::One("distribute".into()),
            Flow::Pull if is_model(facts) => {
                RequestedAction::AnyOf(vec!["read".into(), "execute".into()])
            }
            Flow::Pull => RequestedAction::One("read".into()),
        }),
        Scope::Access => Some(RequestedAction::One(access_action(facts).into())),
    }
}

/// The purpose declared, if any: one that is empty or only spaces is no purpose at all.
fn declared(purpose: &Option<String>) -> Option<String> {
    purpose
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
}

/// The request context the connector decides on in `scope`.
pub fn build(scope: Scope, facts: &Facts, policy: &Policy) -> RequestContext {
    let mut ctx = RequestContext {
        time: facts.at.clone(),
        action: requested_action(scope, facts, policy),
        resource: facts.resource.clone(),
        counterparty: facts.partner.clone(),
        ..Default::default()
    };
    match scope {
        // Browsing, the partner has declared nothing and no agreement exists: usage conditions wait.
        Scope::Catalogue => {}
        // The agreement would start now, and no access has been made under it.
        Scope::Negotiation => {
            ctx.purpose = declared(&facts.purpose);
            ctx.agreement = Some(AgreementContext {
                id: facts.agreement.clone(),
                start: facts.at.clone(),
            });
            ctx.usage = Some(UsageContext { count: Some(0) });
        }
        Scope::Transfer | Scope::Access => {
            ctx.purpose = declared(&facts.purpose);
            ctx.agreement = Some(AgreementContext {
                id: facts.agreement.clone(),
                start: facts.agreed_at.clone().or_else(|| facts.at.clone()),
            });
            ctx.usage = Some(UsageContext {
                count: Some(facts.accesses.unwrap_or(0)),
            });
            ctx.duties = facts.duties.clone();
        }
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(v: serde_json::Value) -> Policy {
        Policy::from_json(&v).unwrap_or_else(|e| panic!("{e}"))
    }

    fn facts(v: serde_json::Value) -> Facts {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn each_scope_asks_what_it_decides() {
        let p = policy(
            json!({"permission": [{"action": "read"}, {"action": "distribute"}, {"action": "read"}]}),
        );
        let f = facts(
            json!({"partner": {"id": "did:web:b"}, "purpose": "dpv:AcademicResearch",
            "at": "2026-12-06T10:00:00Z", "agreedAt": "2026-12-01T10:00:00Z", "accesses": 4}),
        );
        let shown = |scope| serde_json::to_value(build(scope, &f, &p)).unwrap_or_default();
        assert_eq!(
            shown(Scope::Catalogue),
            json!({"time": "2026-12-06T10:00:00Z", "action": ["read", "distribute"], "counterparty": {"id": "did:web:b"}})
        );
        assert_eq!(
            shown(Scope::Negotiation),
            json!({"time": "2026-12-06T10:00:00Z", "action": ["read", "distribute"], "counterparty": {"id": "did:web:b"},
                   "purpose": "dpv:AcademicResearch", "usage": {"count": 0}, "agreement": {"start": "2026-12-06T10:00:00Z"}})
        );
        assert_eq!(
            shown(Scope::Transfer)["agreement"],
            json!({"start": "2026-12-01T10:00:00Z"})
        );
        assert_eq!(shown(Scope::Transfer)["action"], json!("read"));
        assert_eq!(shown(Scope::Access)["usage"], json!({"count": 4}));
        let blank = facts(json!({"purpose": "  "}));
        assert_eq!(build(Scope::Negotiation, &blank, &p).purpose, None);
    }

    #[test]
    fn the_action_is_what_the_request_does() {
        let on = |v: serde_json::Value| access_action(&facts(v));
        assert_eq!(on(json!({})), "read");
        assert_eq!(on(json!({"method": "HEAD"})), "read");
        assert_eq!(on(json!({"method": "POST"})), "use");
        assert_eq!(
            on(json!({"method": "POST", "resource": {"kind": "model-or-service"}})),
            "execute"
        );
        assert_eq!(on(json!({"method": "PATCH"})), "modify");
        assert_eq!(on(json!({"method": "DELETE"})), "delete");
        assert_eq!(on(json!({"flow": "push", "method": "GET"})), "distribute");
        let p = policy(json!({"permission": [{"action": "use"}]}));
        let model = facts(json!({"resource": {"kind": "model-or-service"}}));
        assert_eq!(
            requested_action(Scope::Transfer, &model, &p),
            Some(RequestedAction::AnyOf(vec![
                "read".into(),
                "execute".into()
            ]))
        );
        assert_eq!(
            requested_action(Scope::Transfer, &facts(json!({"flow": "push"})), &p),
            Some(RequestedAction::One("distribute".into()))
        );
    }
}
