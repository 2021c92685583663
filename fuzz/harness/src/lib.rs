//! The bodies of Twinport's fuzz targets, one `pub fn <target>(data: &[u8])` each, kept in an ordinary library so
//! the same code runs under libFuzzer (`fuzz/fuzz_targets/`, nightly) and in the stable corpus replay test
//! (`tests/tests/fuzz_corpus.rs`), which keeps every input the fuzzers found interesting passing in CI.
//!
//! A target never panics on input the parser refuses; it panics only when a parser accepts something and one of
//! the invariants that callers rely on is broken (a round trip that changes the value, an identifier that escaped
//! the id rule, a judged `Link` naming a context nobody declared), so every panic is a finding.

mod canonical;
mod config;
mod dsp;
mod ngsi_ld;
mod paths;
mod policy;

pub use canonical::canonical_json;
pub use config::config;
pub use dsp::dsp_messages;
pub use ngsi_ld::{ngsi_ld_link, ngsi_ld_query};
pub use paths::path_checks;
pub use policy::odrl_policy;

/// The body of one fuzz target.
pub type Harness = fn(&[u8]);

/// Every target, by the name of its fuzz target and corpus directory, so the replay test cannot miss one.
pub const TARGETS: &[(&str, Harness)] = &[
    ("dsp_messages", dsp_messages),
    ("odrl_policy", odrl_policy),
    ("canonical_json", canonical_json),
    ("config", config),
    ("path_checks", path_checks),
    ("ngsi_ld_query", ngsi_ld_query),
    ("ngsi_ld_link", ngsi_ld_link),
];
