//! Evaluates a policy file against a request-context file and prints the report for people, then as JSON:
//! `cargo run -p twinport-policy --example evaluate -- POLICY.json CONTEXT.json [scope]`.

use twinport_policy::{Engine, EngineSettings, Policy, RequestContext, Scope};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!(
            "usage: evaluate POLICY.json CONTEXT.json [catalogue|negotiation|transfer|access]"
        );
        std::process::exit(2);
    }
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let policy =
        Policy::from_json_str(&read(&args[1])).unwrap_or_else(|e| panic!("{}: {e}", args[1]));
    let ctx = RequestContext::from_json_str(&read(&args[2]))
        .unwrap_or_else(|e| panic!("{}: {e}", args[2]));
    let scope: Scope = args
        .get(3)
        .map(|s| s.parse().unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or(Scope::Access);
    let report = Engine::new(EngineSettings::default()).evaluate(&policy, &ctx, scope);
    println!("{}", report.to_text());
    for r in report.reasons() {
        println!("reason: {r}");
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
}
