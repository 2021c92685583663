//! DCP scope strings, `alias:discriminator[:operation]`: what a verifier asks a Credential Service for, e.g.
//! `org.eclipse.dspace.dcp.vc.type:MembershipCredential:read`. DCP itself defines two parts; every implementation
//! met in practice (EDC, the TCK, Tractus-X) sends a third, the operation, so both forms are read and the
//! three-part form is written.

use std::fmt;
use std::str::FromStr;

use super::DcpError;

/// The scope alias that selects credentials by type; DCP says every Credential Service must support it.
pub const TYPE_ALIAS: &str = "org.eclipse.dspace.dcp.vc.type";
/// The scope alias that selects one credential by its id; DCP says every Credential Service must support it.
pub const ID_ALIAS: &str = "org.eclipse.dspace.dcp.vc.id";
/// Tractus-X's own alias for selecting by type (`TxDcpConstants`), meaning the same as [`TYPE_ALIAS`].
pub const TRACTUSX_TYPE_ALIAS: &str = "org.eclipse.tractusx.vc.type";

/// The operations EDC accepts as a scope's third part (`DcpIdentityService.SCOPE_STRING_REGEX`).
const OPERATIONS: [&str; 3] = ["read", "write", "*"];

/// One parsed scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// What the discriminator means, e.g. [`TYPE_ALIAS`]; may contain dots, never a colon.
    pub alias: String,
    /// The discriminator: a credential type for the type aliases, a credential id for [`ID_ALIAS`] (which may
    /// itself contain colons, e.g. `urn:uuid:...`).
    pub credential_type: String,
    /// `read`, `write` or `*` when the scope has a third part.
    pub operation: Option<String>,
}

impl Scope {
    /// Parses `alias:discriminator` or `alias:discriminator:operation`. The alias ends at the first colon; a
    /// trailing `:read`, `:write` or `:*` is the operation. A type name cannot contain a colon, so under a type
    /// alias any other trailing part is a bad operation and refused; under other aliases (the id alias) the colons
    /// belong to the discriminator. Whitespace is refused: scopes travel space-separated in token requests.
    pub fn parse(s: &str) -> Result<Scope, DcpError> {
        let bad = || DcpError::BadScope(s.to_owned());
        if s.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let (alias, rest) = s.split_once(':').ok_or_else(bad)?;
        let (discriminator, operation) = match rest.rsplit_once(':') {
            Some((head, op)) if OPERATIONS.contains(&op) => (head, Some(op)),
            Some(_) if is_type_alias(alias) => return Err(bad()),
            _ => (rest, None),
        };
        if alias.is_empty()
            || discriminator.is_empty()
            || (is_type_alias(alias) && discriminator.contains(':'))
        {
            return Err(bad());
        }
        Ok(Scope {
            alias: alias.to_owned(),
            credential_type: discriminator.to_owned(),
            operation: operation.map(str::to_owned),
        })
    }

    /// The scope EDC sends to ask for credentials of one type: `org.eclipse.dspace.dcp.vc.type:<type>:read`.
    pub fn for_type(credential_type: &str) -> Scope {
        Scope {
            alias: TYPE_ALIAS.to_owned(),
            credential_type: credential_type.to_owned(),
            operation: Some("read".to_owned()),
        }
    }

    /// Whether the scope selects by credential type, under DCP's alias or Tractus-X's.
    pub fn is_type_alias(&self) -> bool {
        is_type_alias(&self.alias)
    }
}

fn is_type_alias(alias: &str) -> bool {
    alias == TYPE_ALIAS || alias == TRACTUSX_TYPE_ALIAS
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.alias, self.credential_type)?;
        if let Some(op) = &self.operation {
            write!(f, ":{op}")?;
        }
        Ok(())
    }
}

impl FromStr for Scope {
    type Err = DcpError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(alias: &str, ty: &str, op: Option<&str>) -> Scope {
        Scope {
            alias: alias.into(),
            credential_type: ty.into(),
            operation: op.map(Into::into),
        }
    }

    #[test]
    fn parses_what_peers_send() {
        let cases = [
            // EDC and the TCK.
            (
                "org.eclipse.dspace.dcp.vc.type:MembershipCredential:read",
                scope(TYPE_ALIAS, "MembershipCredential", Some("read")),
            ),
            (
                "org.eclipse.dspace.dcp.vc.type:Foo:write",
                scope(TYPE_ALIAS, "Foo", Some("write")),
            ),
            (
                "org.eclipse.dspace.dcp.vc.type:Foo:*",
                scope(TYPE_ALIAS, "Foo", Some("*")),
            ),
            // Tractus-X.
            (
                "org.eclipse.tractusx.vc.type:BpnCredential:read",
                scope(TRACTUSX_TYPE_ALIAS, "BpnCredential", Some("read")),
            ),
            // DCP's own two-part grammar.
            (
                "org.eclipse.dspace.dcp.vc.type:MembershipCredential",
                scope(TYPE_ALIAS, "MembershipCredential", None),
            ),
            // The id alias: the discriminator keeps its colons.
            (
                "org.eclipse.dspace.dcp.vc.id:urn:uuid:9b1c6f2a-1111-4e5f-8a1d-1c2b3d4e5f60",
                scope(
                    ID_ALIAS,
                    "urn:uuid:9b1c6f2a-1111-4e5f-8a1d-1c2b3d4e5f60",
                    None,
                ),
            ),
            (
                "org.eclipse.dspace.dcp.vc.id:did:web:x#1:read",
                scope(ID_ALIAS, "did:web:x#1", Some("read")),
            ),
            // An alias nobody registered is still well-formed.
            (
                "my.alias:thing:read",
                scope("my.alias", "thing", Some("read")),
            ),
        ];
        for (text, expected) in cases {
            let parsed = Scope::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed, expected, "{text}");
            assert_eq!(parsed.to_string(), text, "display round-trips");
            assert_eq!(text.parse::<Scope>().as_ref(), Ok(&expected));
        }
    }

    #[test]
    fn refuses_malformed_scopes() {
        for text in [
            "",
            "presentation1",
            ":Foo:read",
            "org.eclipse.dspace.dcp.vc.type:",
            "org.eclipse.dspace.dcp.vc.type::read",
            "org.eclipse.dspace.dcp.vc.type:Foo:delete",
            "org.eclipse.dspace.dcp.vc.type:Foo:",
            "org.eclipse.dspace.dcp.vc.type:Foo:read:read",
            "org.eclipse.tractusx.vc.type:Foo:READ",
            "org.eclipse.dspace.dcp.vc.type:Foo read",
            "org.eclipse.dspace.dcp.vc.type:Foo:read org.eclipse.dspace.dcp.vc.type:Bar:read",
        ] {
            assert_eq!(
                Scope::parse(text),
                Err(DcpError::BadScope(text.into())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn type_scopes() {
        let s = Scope::for_type("MembershipCredential");
        assert_eq!(
            s.to_string(),
            "org.eclipse.dspace.dcp.vc.type:MembershipCredential:read"
        );
        assert!(s.is_type_alias());
        assert!(
            Scope::parse("org.eclipse.tractusx.vc.type:X:read").is_ok_and(|s| s.is_type_alias())
        );
        assert!(!Scope::parse("org.eclipse.dspace.dcp.vc.id:X").is_ok_and(|s| s.is_type_alias()));
    }
}
