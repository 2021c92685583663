//! The roles people hold on the management API. Configuration maps OIDC claims to them and the management API
//! checks them, so they live with the configuration both read.

/// Roles a caller can hold; each handler states the one it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Resources, partners, settings, negotiations, transfers.
    Operator,
    /// Policies and dry-runs.
    Legal,
    /// The audit log, its proofs and exports.
    Auditor,
    /// Read-only catalogue and processes.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Operator, Role::Legal, Role::Auditor, Role::Viewer];

    /// The name used in configuration, tokens' mapped values and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Legal => "legal",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }

    /// Whether holding `self` is enough where `needed` is required. Every role includes viewer, since each needs
    /// to see what it acts on; otherwise roles are separate duties: an operator cannot rewrite policies, a legal
    /// officer cannot start transfers, and only auditors read the audit log.
    pub fn grants(self, needed: Role) -> bool {
        self == needed || needed == Role::Viewer
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
