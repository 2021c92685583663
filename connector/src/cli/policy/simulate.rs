//! `twinport policy simulate POLICY --partner ID`: what the connector would decide for one partner at every
//! moment (catalogue, negotiation, transfer, first and N-th access), each with the exact request context the
//! connector's request builder makes. With `--config` the partner's claims, the time zone and the city's Rego
//! rules come from the connector's own configuration, so the answer is the running connector's.

use std::path::PathBuf;

use clap::Args;
use serde_json::{json, Map, Value};
use twinport_policy::context::{CounterpartyContext, ResourceContext};
use twinport_policy::request::{Facts, Flow};
use twinport_policy::simulate::{default_nth, simulate};
use twinport_policy::zone::PolicyZone;
use twinport_policy::Engine;

use super::inputs::load_policy;
use crate::config::Config;
use crate::contracting::decision::{connector_settings, load_rules};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The ODRL policy (JSON).
    policy: PathBuf,
    /// The partner's participant id.
    #[arg(long)]
    partner: String,
    /// The partner's attested claims: a JSON object, or `name=value` pairs separated by commas
    /// (`membership=partner-city,region=NL-UT`). With --config, the partner's configured claims by default.
    #[arg(long)]
    claims: Option<String>,
    /// The purpose the partner declares when negotiating (a DPV purpose IRI, e.g.
    /// https://w3id.org/dpv#AcademicResearch).
    #[arg(long)]
    purpose: Option<String>,
    /// When the decisions are made (RFC 3339); default now.
    #[arg(long)]
    at: Option<String>,
    /// When the agreement was concluded (RFC 3339), for the transfer and accesses; default --at.
    #[arg(long)]
    agreed_at: Option<String>,
    /// The resource id; default the policy's target.
    #[arg(long)]
    resource: Option<String>,
    /// The resource's MIM8 kind (dataset, model-or-service, ...).
    #[arg(long)]
    kind: Option<String>,
    /// The dataset's stage (raw, workflow-ready, model-input, model-output).
    #[arg(long)]
    stage: Option<String>,
    /// How the data flows: pull (default) or push.
    #[arg(long, value_parser = ["pull", "push"])]
    flow: Option<String>,
    /// The HTTP method of the pull requests; default GET.
    #[arg(long)]
    method: Option<String>,
    /// Which access to show besides the first; default one past the policy's count limit, else the 100th.
    #[arg(long)]
    access: Option<u64>,
    /// The connector's configuration (twinport.toml): partner claims, policy time zone and Rego rules.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Time zone for dates, days and times of day (IANA name); default the config's, else UTC.
    #[arg(long)]
    time_zone: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `a=b,c=d` or a JSON object.
fn parse_claims(text: &str) -> Result<Map<String, Value>, String> {
    let t = text.trim();
    if t.starts_with('{') {
        return match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err("--claims: expected a JSON object".into()),
            Err(e) => Err(format!("--claims: {e}")),
        };
    }
    let mut out = Map::new();
    for pair in t.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("--claims: {pair:?} is not name=value"))?;
        out.insert(k.trim().to_string(), json!(v.trim()));
    }
    Ok(out)
}

pub fn run(args: SimulateArgs) -> Result<u8, String> {
    let config = match &args.config {
        Some(path) => Some(Config::load(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => None,
    };
    let zone = match (&args.time_zone, &config) {
        (Some(name), _) => PolicyZone::named(name).map_err(|e| format!("--time-zone: {e}"))?,
        (None, Some(c)) => c.policy_time_zone.clone(),
        (None, None) => PolicyZone::utc(),
    };
    let policy = load_policy(&args.policy)?;
    let mut engine = Engine::new(connector_settings(&zone));
    if let Some(c) = &config {
        let (rules, _) = load_rules(&c.catalogue_dir).map_err(|e| e.to_string())?;
        engine = engine.with_rego(rules);
    }
    let claims = match (&args.claims, &config) {
        (Some(text), _) => parse_claims(text)?,
        (None, Some(c)) => c
            .partners
            .iter()
            .find(|p| p.id == args.partner)
            .map(|p| p.claims.clone())
            .unwrap_or_default(),
        (None, None) => Map::new(),
    };
    let at = match &args.at {
        Some(t) => {
            twinport_policy::value::parse_time(t)
                .ok_or_else(|| format!("--at: {t:?} is not an RFC 3339 date-time"))?;
            t.clone()
        }
        None => time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    };
    let resource = args
        .resource
        .clone()
        .or_else(|| policy.target.as_ref().map(|t| t.uid.clone()))
        .or_else(|| {
            policy
                .permissions
                .iter()
                .find_map(|r| r.target.as_ref().map(|t| t.uid.clone()))
        });
    let facts = Facts {
        partner: Some(CounterpartyContext {
            id: Some(args.partner.clone()),
            claims,
            ..Default::default()
        }),
        resource: Some(ResourceContext {
            id: resource,
            kind: args.kind.clone(),
            stage: args.stage.clone(),
            ..Default::default()
        }),
        purpose: args.purpose.clone(),
        at: Some(at),
        agreed_at: args.agreed_at.clone(),
        agreement: None,
        flow: match args.flow.as_deref() {
            Some("push") => Some(Flow::Push),
            _ => Some(Flow::Pull),
        },
        method: args.method.clone(),
        accesses: None,
        duties: Default::default(),
    };
    let nth = args.access.unwrap_or_else(|| default_nth(&policy));
    let steps = simulate(&engine, &policy, &facts, nth);
    if args.json {
        let shown = json!({
            "policy": policy.uid,
            "timeZone": policy.time_zone.as_ref().unwrap_or(&zone).name(),
            "facts": facts,
            "steps": steps.iter().map(|s| json!({
                "scope": s.scope,
                "question": s.question,
                "decision": s.report.decision,
                "reasons": s.report.reasons(),
                "context": s.context,
                "report": s.report,
            })).collect::<Vec<_>>(),
        });
        say!(
            "{}",
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        );
        return Ok(0);
    }
    say!(
        "policy {} for {} (times read as {})",
        policy
            .label
            .as_deref()
            .or(policy.uid.as_deref())
            .unwrap_or("(no id or label)"),
        args.partner,
        policy.time_zone.as_ref().unwrap_or(&zone).describe()
    );
    for s in &steps {
        say!("");
        say!(
            "{:<12} {:<7} {}",
            s.scope.as_str(),
            if s.report.is_permit() {
                "PERMIT"
            } else {
                "DENY"
            },
            s.question
        );
        say!(
            "  context: {}",
            serde_json::to_string(&s.context).unwrap_or_default()
        );
        let reasons = s.report.reasons();
        for r in &reasons {
            say!("  {r}");
        }
    }
    Ok(0)
}
