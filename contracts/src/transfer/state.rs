//! The transfer process state machine of DSP 2025-1 §7.1 as a pure function: given the current state (or none for
//! a new transfer), the message received and who sent it, the next state or why the message is refused.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::process::{Role, TransitionError};

/// The states of a transfer process; `COMPLETED` and `TERMINATED` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferState {
    Requested,
    Started,
    Completed,
    Suspended,
    Terminated,
}

impl TransferState {
    pub const ALL: [TransferState; 5] = [
        TransferState::Requested,
        TransferState::Started,
        TransferState::Completed,
        TransferState::Suspended,
        TransferState::Terminated,
    ];

    /// The wire value, e.g. `"STARTED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferState::Requested => "REQUESTED",
            TransferState::Started => "STARTED",
            TransferState::Completed => "COMPLETED",
            TransferState::Suspended => "SUSPENDED",
            TransferState::Terminated => "TERMINATED",
        }
    }

    /// No message is accepted any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, TransferState::Completed | TransferState::Terminated)
    }
}

impl fmt::Display for TransferState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state name is not one of the five transfer states.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("unknown transfer state \"{0}\"")]
pub struct UnknownTransferState(pub String);

impl FromStr for TransferState {
    type Err = UnknownTransferState;

    /// Accepts the bare 2025-1 value and the `dspace:`-prefixed 2024-1 spelling.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bare = s.strip_prefix("dspace:").unwrap_or(s);
        TransferState::ALL
            .into_iter()
            .find(|st| st.as_str() == bare)
            .ok_or_else(|| UnknownTransferState(s.to_owned()))
    }
}

/// The transfer messages that drive the state machine (the ACK and error bodies do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferMessageKind {
    TransferRequest,
    /// `TransferStartMessage`: the provider's initial start, or either party resuming a suspended transfer.
    TransferStart,
    TransferSuspension,
    TransferCompletion,
    TransferTermination,
}

impl TransferMessageKind {
    pub const ALL: [TransferMessageKind; 5] = [
        TransferMessageKind::TransferRequest,
        TransferMessageKind::TransferStart,
        TransferMessageKind::TransferSuspension,
        TransferMessageKind::TransferCompletion,
        TransferMessageKind::TransferTermination,
    ];

    /// The message `@type`.
    pub fn name(self) -> &'static str {
        match self {
            TransferMessageKind::TransferRequest => "TransferRequestMessage",
            TransferMessageKind::TransferStart => "TransferStartMessage",
            TransferMessageKind::TransferSuspension => "TransferSuspensionMessage",
            TransferMessageKind::TransferCompletion => "TransferCompletionMessage",
            TransferMessageKind::TransferTermination => "TransferTerminationMessage",
        }
    }
}

impl fmt::Display for TransferMessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn next_state(
    state: Option<TransferState>,
    message: TransferMessageKind,
    sender: Role,
) -> Option<TransferState> {
    use Role::{Consumer, Provider};
    use TransferMessageKind as M;
    use TransferState as S;
    match (state, message, sender) {
        (None, M::TransferRequest, Consumer) => Some(S::Requested),
        // Only the provider starts a requested transfer: it alone knows when the data (address) is ready.
        (Some(S::Requested), M::TransferStart, Provider) => Some(S::Started),
        (Some(S::Suspended), M::TransferStart, _) => Some(S::Started),
        (Some(S::Started), M::TransferCompletion, _) => Some(S::Completed),
        (Some(S::Started), M::TransferSuspension, _) => Some(S::Suspended),
        (Some(S::Requested | S::Started | S::Suspended), M::TransferTermination, _) => {
            Some(S::Terminated)
        }
        _ => None,
    }
}

/// The state a transfer moves to when `sender` sends `message` in `state` (`None`: no transfer yet).
pub fn transition(
    state: Option<TransferState>,
    message: TransferMessageKind,
    sender: Role,
) -> Result<TransferState, TransitionError> {
    next_state(state, message, sender).ok_or_else(|| {
        TransitionError::refuse(
            state.map(TransferState::as_str),
            state.is_some_and(TransferState::is_terminal),
            message.name(),
            sender,
            next_state(state, message, sender.other()).is_some(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::{Consumer as C, Provider as P};
    use TransferMessageKind as M;
    use TransferState as S;

    /// Every allowed transition of dsp.md §7.1, written out independently of `next_state`.
    const ALLOWED: &[(Option<S>, M, Role, S)] = &[
        (None, M::TransferRequest, C, S::Requested),
        (Some(S::Requested), M::TransferStart, P, S::Started),
        (Some(S::Requested), M::TransferTermination, C, S::Terminated),
        (Some(S::Requested), M::TransferTermination, P, S::Terminated),
        (Some(S::Started), M::TransferCompletion, C, S::Completed),
        (Some(S::Started), M::TransferCompletion, P, S::Completed),
        (Some(S::Started), M::TransferSuspension, C, S::Suspended),
        (Some(S::Started), M::TransferSuspension, P, S::Suspended),
        (Some(S::Started), M::TransferTermination, C, S::Terminated),
        (Some(S::Started), M::TransferTermination, P, S::Terminated),
        (Some(S::Suspended), M::TransferStart, C, S::Started),
        (Some(S::Suspended), M::TransferStart, P, S::Started),
        (Some(S::Suspended), M::TransferTermination, C, S::Terminated),
        (Some(S::Suspended), M::TransferTermination, P, S::Terminated),
    ];

    #[test]
    fn every_combination_matches_the_table() {
        let mut checked = 0;
        for state in std::iter::once(None).chain(S::ALL.into_iter().map(Some)) {
            for message in M::ALL {
                for sender in Role::ALL {
                    let expected = ALLOWED
                        .iter()
                        .find(|(s, m, r, _)| *s == state && *m == message && *r == sender)
                        .map(|(_, _, _, to)| *to);
                    let got = transition(state, message, sender);
                    match expected {
                        Some(to) => assert_eq!(got, Ok(to), "{state:?} {message} {sender}"),
                        None => assert!(
                            got.is_err(),
                            "{state:?} {message} {sender} must be refused, got {got:?}"
                        ),
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6 * 5 * 2);
    }

    #[test]
    fn final_states_refuse_everything_as_terminal() {
        for state in [S::Completed, S::Terminated] {
            for message in M::ALL {
                for sender in Role::ALL {
                    assert_eq!(
                        transition(Some(state), message, sender),
                        Err(TransitionError::Terminal {
                            state: state.as_str(),
                            message: message.name()
                        })
                    );
                }
            }
        }
    }

    #[test]
    fn spec_examples_of_invalid_transitions() {
        assert_eq!(
            transition(Some(S::Requested), M::TransferStart, C),
            Err(TransitionError::WrongSender {
                state: Some("REQUESTED"),
                message: "TransferStartMessage",
                allowed: P
            })
        );
        for m in [M::TransferCompletion, M::TransferSuspension] {
            assert!(matches!(
                transition(Some(S::Requested), m, P),
                Err(TransitionError::NotAllowed { .. })
            ));
        }
        assert!(matches!(
            transition(Some(S::Suspended), M::TransferCompletion, C),
            Err(TransitionError::NotAllowed { .. })
        ));
        assert_eq!(
            transition(None, M::TransferRequest, P),
            Err(TransitionError::WrongSender {
                state: None,
                message: "TransferRequestMessage",
                allowed: C
            })
        );
        assert!(matches!(
            transition(Some(S::Started), M::TransferRequest, C),
            Err(TransitionError::NotAllowed { .. })
        ));
    }

    #[test]
    fn states_parse_from_wire_values() {
        for state in S::ALL {
            assert_eq!(state.as_str().parse::<S>(), Ok(state));
            assert_eq!(format!("dspace:{state}").parse::<S>(), Ok(state));
            assert_eq!(
                serde_json::to_value(state).ok(),
                Some(serde_json::json!(state.as_str()))
            );
        }
        assert_eq!(
            "PAUSED".parse::<S>(),
            Err(UnknownTransferState("PAUSED".into()))
        );
    }
}
