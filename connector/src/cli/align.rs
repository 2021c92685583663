//! `twinport align`: asks a running connector (its management API) whether a model's inputs fit the datasets
//! chosen for them, ours or partners', or whether an output fits the visualisation asset that will show it, and
//! prints each dimension's verdict with its reason. The exit code says whether the data can be used (0: aligned
//! or convertible; 1: misaligned, or not known), so a pipeline can stop before a negotiation.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use crate::align::Verdict;
use crate::alignment::{AlignmentReport, CheckRequest, Pairing, ResourceRef};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct AlignArgs {
    /// The model: `ID` in our catalogue, or `ID@PARTNER` in a partner's.
    #[arg(long, conflicts_with_all = ["output", "visualisation"], requires = "inputs")]
    model: Option<String>,
    /// A model input to check (repeatable, each followed by its --dataset).
    #[arg(long = "input", requires = "model")]
    inputs: Vec<String>,
    /// The dataset chosen for the preceding --input: `ID` or `ID@PARTNER`.
    #[arg(long = "dataset")]
    datasets: Vec<String>,
    /// An output to check against --visualisation.
    #[arg(long, requires = "visualisation")]
    output: Option<String>,
    /// The visualisation asset that will show --output.
    #[arg(long, requires = "output")]
    visualisation: Option<String>,
    /// The connector's config: where its management API listens, its token, and its partners.
    #[arg(long, default_value = "twinport.toml")]
    config: PathBuf,
    /// The management API's base URL, instead of the config's `management_listen`.
    #[arg(long)]
    url: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: AlignArgs) -> ExitCode {
    match check(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn check(args: AlignArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.config)?;
    let is_partner = |p: &str| config.partner(p).is_some();
    let reference = |s: &str| ResourceRef::parse(s, is_partner);
    if args.inputs.len() != args.datasets.len() {
        bail!(
            "give one --dataset after each --input ({} inputs, {} datasets)",
            args.inputs.len(),
            args.datasets.len()
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = args.inputs.iter().find(|i| !seen.insert(i.as_str())) {
        bail!("--input {twice} is given twice; name each input once, with its --dataset");
    }
    let request = CheckRequest {
        model: args.model.as_deref().map(reference),
        inputs: args
            .inputs
            .iter()
            .zip(&args.datasets)
            .map(|(name, dataset)| (name.clone(), reference(dataset)))
            .collect(),
        output: args.output.as_deref().map(reference),
        visualisation: args.visualisation.as_deref().map(reference),
    };
    if let Err(problems) = request.asked() {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        bail!("{}", text.join("; "));
    }
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!(
            "http://{}",
            super::health::on_this_machine(config.management_listen)
        ),
    };
    let token = std::env::var("TWINPORT_MANAGEMENT_TOKEN")
        .ok()
        .or(config.management_token.clone())
        .context("no management token: set TWINPORT_MANAGEMENT_TOKEN (or management_token in the config)")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (status, body) = rt.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{base}/api/v1/alignment"))
            .bearer_auth(token)
            .json(&request)
            .send()
            .await
            .with_context(|| format!("the connector's management API at {base}"))?;
        let status = response.status();
        anyhow::Ok((status, response.text().await?))
    })?;
    if !status.is_success() {
        let detail = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .map(|p| problem_text(&p))
            .unwrap_or(body);
        bail!("{status}: {detail}");
    }
    let report: AlignmentReport =
        serde_json::from_str(&body).context("the connector's answer is not an alignment report")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(
        if matches!(report.verdict, Verdict::Aligned | Verdict::Convertible) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

fn problem_text(p: &serde_json::Value) -> String {
    let mut text = p["detail"]
        .as_str()
        .or(p["title"].as_str())
        .unwrap_or("refused")
        .to_string();
    if let Some(errors) = p["errors"].as_array() {
        for e in errors {
            text.push_str(&format!(
                "\n  {}: {}",
                e["field"].as_str().unwrap_or("?"),
                e["problem"].as_str().unwrap_or("?")
            ));
        }
    }
    text
}

/// The report as a person reads it: one block per pairing, one line per dimension.
pub fn render(r: &AlignmentReport) -> String {
    let mut out = String::new();
    if let Some(m) = &r.model {
        out.push_str(&format!(
            "model   {}{}\n",
            m.resource.label(),
            title(&m.title)
        ));
    }
    if let Some(v) = &r.visualisation {
        out.push_str(&format!(
            "shown by {}{}\n",
            v.resource.label(),
            title(&v.title)
        ));
    }
    for p in &r.pairings {
        out.push_str(&pairing(p));
    }
    if !r.unchecked_inputs.is_empty() {
        out.push_str(&format!(
            "not checked: {} (name a dataset for each to check the whole run)\n",
            r.unchecked_inputs.join(", ")
        ));
    }
    out.push_str(&format!(
        "verdict: {}   (check {}, audit log entry {})\n",
        r.verdict.as_str(),
        r.id,
        r.audit_index
    ));
    out
}

fn pairing(p: &Pairing) -> String {
    let mut out = match &p.input {
        Some(input) => format!(
            "\ninput {input} ← {}{}\n",
            p.dataset.resource.label(),
            title(&p.dataset.title)
        ),
        None => format!(
            "\noutput {}{}\n",
            p.dataset.resource.label(),
            title(&p.dataset.title)
        ),
    };
    for f in &p.findings {
        let dimension = f.dimension.as_str();
        out.push_str(&format!(
            "  {dimension:<7} {:<12} {}\n",
            f.verdict.as_str(),
            f.reason
        ));
    }
    out
}

fn title(t: &Option<String>) -> String {
    t.as_ref().map(|t| format!("  \"{t}\"")).unwrap_or_default()
}
