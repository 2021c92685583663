//! The pids in a follow-up message must name the process its path addresses. The path finds the process; the body
//! says which process the sender means. When the two disagree the message is refused, never applied: applying it
//! would let a partner move one process while believing it moves another (or move someone's process by guessing
//! one pid).

use serde_json::Value;

/// Checks the body's `providerPid` and `consumerPid` against the pids the process knows. A pid the process does
/// not know yet (the partner's, before its acknowledgement arrived) is accepted from the body: the message is the
/// evidence that teaches it.
pub fn check(
    provider_pid: Option<&str>,
    consumer_pid: Option<&str>,
    body: &Value,
) -> Result<(), String> {
    let mut wrong = Vec::new();
    for (key, known) in [("providerPid", provider_pid), ("consumerPid", consumer_pid)] {
        let sent = body.get(key).and_then(Value::as_str);
        match (known, sent) {
            (Some(known), Some(sent)) if known == sent => {}
            (None, Some(_)) => {}
            (Some(known), Some(sent)) => {
                wrong.push(format!("{key} {sent} is not this process's {known}"))
            }
            (_, None) => wrong.push(format!("{key} is missing")),
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the message names another process than its path: {}",
            wrong.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use serde_json::json;

    #[test]
    fn matching_pids_pass_and_unknown_partner_pids_are_learned() {
        let body = json!({"providerPid": "urn:p", "consumerPid": "urn:c"});
        assert_eq!(check(Some("urn:p"), Some("urn:c"), &body), Ok(()));
        assert_eq!(check(None, Some("urn:c"), &body), Ok(()));
        assert_eq!(check(Some("urn:p"), None, &body), Ok(()));
    }

    #[test]
    fn a_mismatch_names_the_pid_and_the_process() {
        let body = json!({"providerPid": "urn:other", "consumerPid": "urn:c"});
        let e = check(Some("urn:p"), Some("urn:c"), &body).unwrap_err();
        assert!(
            e.contains("providerPid urn:other is not this process's urn:p"),
            "{e}"
        );
        let body = json!({"providerPid": "urn:p", "consumerPid": "urn:x"});
        assert!(check(Some("urn:p"), Some("urn:c"), &body)
            .unwrap_err()
            .contains("consumerPid urn:x"));
        assert!(check(
            Some("urn:p"),
            Some("urn:c"),
            &json!({"providerPid": "urn:p"})
        )
        .unwrap_err()
        .contains("consumerPid is missing"));
    }
}
