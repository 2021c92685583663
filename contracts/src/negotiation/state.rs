//! The contract negotiation state machine of DSP 2025-1 §6.2 as a pure function: given the current state (or none
//! for a new negotiation), the message received and who sent it, the next state or why the message is refused.
//!
//! One deliberate reading of the spec: a termination is accepted from either party in every non-final state. The
//! protocol text says it "MAY be sent at any state" while the diagram lists only some (state, sender) pairs;
//! refusing a termination would leave the partner stuck in a negotiation it wants to end, which is exactly the
//! stall this connector exists to avoid.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::process::{Role, TransitionError};

/// The states of a contract negotiation; `FINALIZED` and `TERMINATED` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NegotiationState {
    Requested,
    Offered,
    Accepted,
    Agreed,
    Verified,
    Finalized,
    Terminated,
}

impl NegotiationState {
    pub const ALL: [NegotiationState; 7] = [
        NegotiationState::Requested,
        NegotiationState::Offered,
        NegotiationState::Accepted,
        NegotiationState::Agreed,
        NegotiationState::Verified,
        NegotiationState::Finalized,
        NegotiationState::Terminated,
    ];

    /// The wire value, e.g. `"REQUESTED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            NegotiationState::Requested => "REQUESTED",
            NegotiationState::Offered => "OFFERED",
            NegotiationState::Accepted => "ACCEPTED",
            NegotiationState::Agreed => "AGREED",
            NegotiationState::Verified => "VERIFIED",
            NegotiationState::Finalized => "FINALIZED",
            NegotiationState::Terminated => "TERMINATED",
        }
    }

    /// No message is accepted any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            NegotiationState::Finalized | NegotiationState::Terminated
        )
    }
}

impl fmt::Display for NegotiationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state name is not one of the seven negotiation states.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("unknown negotiation state \"{0}\"")]
pub struct UnknownNegotiationState(pub String);

impl FromStr for NegotiationState {
    type Err = UnknownNegotiationState;

    /// Accepts the bare 2025-1 value and the `dspace:`-prefixed 2024-1 spelling.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bare = s.strip_prefix("dspace:").unwrap_or(s);
        NegotiationState::ALL
            .into_iter()
            .find(|st| st.as_str() == bare)
            .ok_or_else(|| UnknownNegotiationState(s.to_owned()))
    }
}

/// The negotiation messages that drive the state machine (the ACK and error bodies do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NegotiationMessageKind {
    /// `ContractRequestMessage`: initial when no negotiation exists, a counter-request otherwise.
    ContractRequest,
    /// `ContractOfferMessage`: initial when no negotiation exists, a counter-offer otherwise.
    ContractOffer,
    ContractAgreement,
    ContractAgreementVerification,
    /// `ContractNegotiationEventMessage` with `eventType` `ACCEPTED`.
    AcceptedEvent,
    /// `ContractNegotiationEventMessage` with `eventType` `FINALIZED`.
    FinalizedEvent,
    Termination,
}

impl NegotiationMessageKind {
    pub const ALL: [NegotiationMessageKind; 7] = [
        NegotiationMessageKind::ContractRequest,
        NegotiationMessageKind::ContractOffer,
        NegotiationMessageKind::ContractAgreement,
        NegotiationMessageKind::ContractAgreementVerification,
        NegotiationMessageKind::AcceptedEvent,
        NegotiationMessageKind::FinalizedEvent,
        NegotiationMessageKind::Termination,
    ];

    /// How the message is named in errors and histories.
    pub fn name(self) -> &'static str {
        match self {
            NegotiationMessageKind::ContractRequest => "ContractRequestMessage",
            NegotiationMessageKind::ContractOffer => "ContractOfferMessage",
            NegotiationMessageKind::ContractAgreement => "ContractAgreementMessage",
            NegotiationMessageKind::ContractAgreementVerification => {
                "ContractAgreementVerificationMessage"
            }
            NegotiationMessageKind::AcceptedEvent => "ContractNegotiationEventMessage ACCEPTED",
            NegotiationMessageKind::FinalizedEvent => "ContractNegotiationEventMessage FINALIZED",
            NegotiationMessageKind::Termination => "ContractNegotiationTerminationMessage",
        }
    }
}

impl fmt::Display for NegotiationMessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn next_state(
    state: Option<NegotiationState>,
    message: NegotiationMessageKind,
    sender: Role,
) -> Option<NegotiationState> {
    use NegotiationMessageKind as M;
    use NegotiationState as S;
    use Role::{Consumer, Provider};
    match (state, message, sender) {
        (None, M::ContractRequest, Consumer) => Some(S::Requested),
        (None, M::ContractOffer, Provider) => Some(S::Offered),
        (Some(S::Requested), M::ContractOffer, Provider) => Some(S::Offered),
        (Some(S::Requested), M::ContractAgreement, Provider) => Some(S::Agreed),
        (Some(S::Offered), M::ContractRequest, Consumer) => Some(S::Requested),
        (Some(S::Offered), M::AcceptedEvent, Consumer) => Some(S::Accepted),
        (Some(S::Accepted), M::ContractAgreement, Provider) => Some(S::Agreed),
        (Some(S::Agreed), M::ContractAgreementVerification, Consumer) => Some(S::Verified),
        (Some(S::Verified), M::FinalizedEvent, Provider) => Some(S::Finalized),
        (Some(s), M::Termination, _) if !s.is_terminal() => Some(S::Terminated),
        _ => None,
    }
}

/// The state a negotiation moves to when `sender` sends `message` in `state` (`None`: no negotiation yet).
pub fn transition(
    state: Option<NegotiationState>,
    message: NegotiationMessageKind,
    sender: Role,
) -> Result<NegotiationState, TransitionError> {
    next_state(state, message, sender).ok_or_else(|| {
        TransitionError::refuse(
            state.map(NegotiationState::as_str),
            state.is_some_and(NegotiationState::is_terminal),
            message.name(),
            sender,
            next_state(state, message, sender.other()).is_some(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use NegotiationMessageKind as M;
    use NegotiationState as S;
    use Role::{Consumer as C, Provider as P};

    /// Every allowed transition, written out independently of `next_state`: §6.2's table plus termination by
    /// either party in every non-final state.
    const ALLOWED: &[(Option<S>, M, Role, S)] = &[
        (None, M::ContractRequest, C, S::Requested),
        (None, M::ContractOffer, P, S::Offered),
        (Some(S::Requested), M::ContractOffer, P, S::Offered),
        (Some(S::Requested), M::ContractAgreement, P, S::Agreed),
        (Some(S::Requested), M::Termination, C, S::Terminated),
        (Some(S::Requested), M::Termination, P, S::Terminated),
        (Some(S::Offered), M::ContractRequest, C, S::Requested),
        (Some(S::Offered), M::AcceptedEvent, C, S::Accepted),
        (Some(S::Offered), M::Termination, C, S::Terminated),
        (Some(S::Offered), M::Termination, P, S::Terminated),
        (Some(S::Accepted), M::ContractAgreement, P, S::Agreed),
        (Some(S::Accepted), M::Termination, C, S::Terminated),
        (Some(S::Accepted), M::Termination, P, S::Terminated),
        (
            Some(S::Agreed),
            M::ContractAgreementVerification,
            C,
            S::Verified,
        ),
        (Some(S::Agreed), M::Termination, C, S::Terminated),
        (Some(S::Agreed), M::Termination, P, S::Terminated),
        (Some(S::Verified), M::FinalizedEvent, P, S::Finalized),
        (Some(S::Verified), M::Termination, C, S::Terminated),
        (Some(S::Verified), M::Termination, P, S::Terminated),
    ];

    fn all_states() -> impl Iterator<Item = Option<S>> {
        std::iter::once(None).chain(S::ALL.into_iter().map(Some))
    }

    #[test]
    fn every_combination_matches_the_table() {
        let mut checked = 0;
        for state in all_states() {
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
        assert_eq!(checked, 8 * 7 * 2);
    }

    #[test]
    fn final_states_refuse_everything_as_terminal() {
        for state in [S::Finalized, S::Terminated] {
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
        // Named in dsp.md §6.2: second counter-request, consumer FINALIZED, provider ACCEPTED, OFFERED → AGREED.
        assert!(matches!(
            transition(Some(S::Requested), M::ContractRequest, C),
            Err(TransitionError::NotAllowed { .. })
        ));
        assert_eq!(
            transition(Some(S::Verified), M::FinalizedEvent, C),
            Err(TransitionError::WrongSender {
                state: Some("VERIFIED"),
                message: M::FinalizedEvent.name(),
                allowed: P
            })
        );
        assert_eq!(
            transition(Some(S::Offered), M::AcceptedEvent, P),
            Err(TransitionError::WrongSender {
                state: Some("OFFERED"),
                message: M::AcceptedEvent.name(),
                allowed: C
            })
        );
        assert!(matches!(
            transition(Some(S::Offered), M::ContractAgreement, P),
            Err(TransitionError::NotAllowed { .. })
        ));
        assert_eq!(
            transition(None, M::Termination, C),
            Err(TransitionError::NotAllowed {
                state: None,
                message: M::Termination.name(),
                sender: C
            })
        );
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
            "DONE".parse::<S>(),
            Err(UnknownNegotiationState("DONE".into()))
        );
    }
}
