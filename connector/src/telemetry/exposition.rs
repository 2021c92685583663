//! The Prometheus text format 0.0.4, written from the OpenMetrics text the metrics library produces. The two
//! differ in three places this connector's metrics reach: OpenMetrics names a counter's family without its
//! `_total` (a 0.0.4 reader, `promtool check metrics` among them, then finds samples with no HELP or TYPE), has
//! `# UNIT` lines and ends with `# EOF`. Sample lines are the same in both.

use std::collections::HashSet;

/// Rewrites an OpenMetrics document as 0.0.4 text. A metric type that has no 0.0.4 form (info, stateset, gauge
/// histogram) is refused rather than written wrong; none is registered today.
pub fn to_text_format(open_metrics: &str) -> Result<String, String> {
    let mut counters = HashSet::new();
    for line in open_metrics.lines() {
        if let Some((name, kind)) = metadata(line, "TYPE") {
            match kind {
                "counter" => {
                    counters.insert(name);
                }
                "gauge" | "histogram" | "summary" | "unknown" => {}
                other => return Err(format!("metric {name} has type {other}, which 0.0.4 lacks")),
            }
        }
    }
    let mut out = String::with_capacity(open_metrics.len());
    for line in open_metrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let rewritten = ["HELP", "TYPE"].iter().find_map(|keyword| {
            let (name, rest) = metadata(line, keyword)?;
            let rest = if *keyword == "TYPE" && rest == "unknown" {
                "untyped"
            } else {
                rest
            };
            let suffix = if counters.contains(name) {
                "_total"
            } else {
                ""
            };
            Some(format!("# {keyword} {name}{suffix} {rest}"))
        });
        match rewritten {
            Some(line) => out.push_str(&line),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    Ok(out)
}

/// `# <keyword> <name> <rest>` → (name, rest).
fn metadata<'a>(line: &'a str, keyword: &str) -> Option<(&'a str, &'a str)> {
    let rest = line
        .strip_prefix("# ")?
        .strip_prefix(keyword)?
        .strip_prefix(' ')?;
    Some(rest.split_once(' ').unwrap_or((rest, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_get_their_total_and_open_metrics_only_lines_go() {
        let om = "# HELP twinport_http_requests Requests answered.\n\
                  # TYPE twinport_http_requests counter\n\
                  twinport_http_requests_total{endpoint=\"/a b\"} 3\n\
                  # HELP twinport_audit_append_duration_seconds Time to commit.\n\
                  # TYPE twinport_audit_append_duration_seconds histogram\n\
                  # UNIT twinport_audit_append_duration_seconds seconds\n\
                  twinport_audit_append_duration_seconds_count 1\n\
                  # HELP odd Unknown.\n\
                  # TYPE odd unknown\n\
                  odd 1\n\
                  # EOF\n";
        assert_eq!(
            to_text_format(om).unwrap(),
            "# HELP twinport_http_requests_total Requests answered.\n\
             # TYPE twinport_http_requests_total counter\n\
             twinport_http_requests_total{endpoint=\"/a b\"} 3\n\
             # HELP twinport_audit_append_duration_seconds Time to commit.\n\
             # TYPE twinport_audit_append_duration_seconds histogram\n\
             twinport_audit_append_duration_seconds_count 1\n\
             # HELP odd Unknown.\n\
             # TYPE odd untyped\n\
             odd 1\n"
        );
    }

    #[test]
    fn a_type_without_a_text_form_is_refused() {
        let om = "# HELP build Build.\n# TYPE build info\nbuild_info{v=\"1\"} 1\n# EOF\n";
        assert!(to_text_format(om).unwrap_err().contains("info"));
    }
}
