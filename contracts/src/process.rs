//! What negotiation and transfer processes have in common: the two roles a connector plays and the error a
//! refused state transition produces, worded so the partner and the operator can see exactly why.

use std::fmt;

/// Which side of a negotiation or transfer sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Consumer,
    Provider,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Consumer, Role::Provider];

    /// The counter-party.
    pub fn other(self) -> Role {
        match self {
            Role::Consumer => Role::Provider,
            Role::Provider => Role::Consumer,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Consumer => "consumer",
            Role::Provider => "provider",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message the state machine refuses; the process stays in `state` (`None`: no process exists yet).
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    #[error("the process is {state}, a final state: {message} is no longer accepted")]
    Terminal {
        state: &'static str,
        message: &'static str,
    },
    #[error("{message} may only be sent by the {allowed} {}", in_state(*.state))]
    WrongSender {
        state: Option<&'static str>,
        message: &'static str,
        allowed: Role,
    },
    #[error("{message} from the {sender} is not allowed {}", in_state(*.state))]
    NotAllowed {
        state: Option<&'static str>,
        message: &'static str,
        sender: Role,
    },
}

fn in_state(state: Option<&'static str>) -> String {
    match state {
        Some(s) => format!("in state {s}"),
        None => "to start a process".to_owned(),
    }
}

impl TransitionError {
    /// Builds the error for a refused message: terminal states first, then a wrong sender when the other party
    /// could have sent it, else a plain protocol violation.
    pub(crate) fn refuse(
        state: Option<&'static str>,
        terminal: bool,
        message: &'static str,
        sender: Role,
        other_party_allowed: bool,
    ) -> Self {
        match state {
            Some(state) if terminal => TransitionError::Terminal { state, message },
            _ if other_party_allowed => TransitionError::WrongSender {
                state,
                message,
                allowed: sender.other(),
            },
            _ => TransitionError::NotAllowed {
                state,
                message,
                sender,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_state_message_and_sender() {
        let e = TransitionError::refuse(
            Some("REQUESTED"),
            false,
            "ContractAgreementMessage",
            Role::Consumer,
            true,
        );
        assert_eq!(
            e.to_string(),
            "ContractAgreementMessage may only be sent by the provider in state REQUESTED"
        );
        let e = TransitionError::refuse(
            Some("FINALIZED"),
            true,
            "ContractNegotiationTerminationMessage",
            Role::Provider,
            false,
        );
        assert_eq!(
            e.to_string(),
            "the process is FINALIZED, a final state: ContractNegotiationTerminationMessage is no longer accepted"
        );
        let e = TransitionError::refuse(
            None,
            false,
            "ContractAgreementMessage",
            Role::Provider,
            false,
        );
        assert_eq!(
            e.to_string(),
            "ContractAgreementMessage from the provider is not allowed to start a process"
        );
    }

    #[test]
    fn other_role_flips() {
        assert_eq!(Role::Consumer.other(), Role::Provider);
        assert_eq!(Role::Provider.other(), Role::Consumer);
    }
}
