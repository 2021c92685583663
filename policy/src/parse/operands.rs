//! Left operands as a policy writes them: a plain word must be one the engine knows, an `odrl:` or `twinport:`
//! term must exist in that vocabulary, and a prefix one letter off a known one is a typo. Refused words come with
//! the word probably meant.

use crate::model::{
    LeftOperand, ODRL_LEFT_OPERANDS, ODRL_NS, RENAMED_TWINPORT_LEFT_OPERANDS, TWINPORT_CLAIM_NS,
    TWINPORT_LEFT_OPERANDS, TWINPORT_NS,
};
use crate::spelling::{closest, hint};

/// The Twinport left operand probably meant by a local name that is none: the closest current name, or the
/// current name of the closest deprecated one (a misspelt `resourceStage` means `stage`), as `twinport:NAME`.
fn twinport_meant(local: &str) -> Option<String> {
    let current = TWINPORT_LEFT_OPERANDS.iter().copied();
    let old = RENAMED_TWINPORT_LEFT_OPERANDS.iter().map(|(old, _)| *old);
    let meant = closest(local, current.chain(old))?;
    let meant = RENAMED_TWINPORT_LEFT_OPERANDS
        .iter()
        .find(|(old, _)| *old == meant)
        .map_or(meant, |(_, new)| *new);
    Some(format!("twinport:{meant}"))
}

const KNOWN_PREFIXES: &[&str] = &["odrl", "twinport", "claim"];

/// The ODRL spelling meant by a term that writes ODRL's prefix or namespace wrongly (`ODRL:read`, `odrl2:read`,
/// `https://www.w3.org/ns/odrl/2/read`): such a term would otherwise be taken for an IRI of some other vocabulary,
/// which nothing matches, so a prohibition written with it would never apply.
pub(crate) fn odrl_misspelt(written: &str) -> Option<String> {
    if written.starts_with(ODRL_NS) || written.starts_with("odrl:") {
        return None;
    }
    if let Some(at) = written.to_ascii_lowercase().find("w3.org/ns/odrl") {
        let local = written[at..].rsplit(['/', '#']).next().unwrap_or_default();
        return Some(format!("odrl:{local}"));
    }
    let (prefix, local) = written.split_once(':')?;
    if local.starts_with("//") {
        return None;
    }
    let near = prefix.eq_ignore_ascii_case("odrl")
        || (prefix.len() > 2
            && strsim::damerau_levenshtein(&prefix.to_ascii_lowercase(), "odrl") <= 1);
    near.then(|| format!("odrl:{local}"))
}

/// A left operand as written, or why it is not one: a plain word must be a left operand the engine knows (native,
/// ODRL's, or `claim:NAME`); an `odrl:` or `twinport:` term must exist in that vocabulary; a prefix one letter off a
/// known one is a typo. Other IRIs are allowed (their value can only come from the context's `parameters`).
pub(crate) fn left_operand(written: &str) -> Result<LeftOperand, String> {
    let lo = LeftOperand::from_term(written);
    if lo.is_known() {
        return Ok(lo);
    }
    if let Some(meant) = odrl_misspelt(written) {
        return Err(format!(
            "left operand {written:?} misspells ODRL's namespace{}",
            hint(Some(&meant))
        ));
    }
    let natives_and_odrl = ODRL_LEFT_OPERANDS.iter().copied();
    if let Some(rest) = written
        .strip_prefix(ODRL_NS)
        .or_else(|| written.strip_prefix("odrl:"))
    {
        if ODRL_LEFT_OPERANDS.contains(&rest) {
            return Ok(lo);
        }
        let s = closest(rest, natives_and_odrl);
        return Err(format!("unknown ODRL left operand {rest:?}{}", hint(s)));
    }
    if let Some(rest) = written
        .strip_prefix(TWINPORT_NS)
        .or_else(|| written.strip_prefix("twinport:"))
    {
        return Err(format!(
            "unknown Twinport left operand {rest:?}{}",
            hint(twinport_meant(rest).as_deref())
        ));
    }
    if !written.contains(':') {
        if ODRL_LEFT_OPERANDS.contains(&written) {
            return Ok(lo);
        }
        if let Some(s) = closest(written, natives_and_odrl) {
            return Err(format!("unknown left operand {written:?}{}", hint(Some(s))));
        }
        // A Twinport name written without its prefix (`stage`) is meant as that name, not misspelt.
        let twinport = if TWINPORT_LEFT_OPERANDS.contains(&written) {
            Some(format!("twinport:{written}"))
        } else {
            twinport_meant(written)
        };
        if let Some(s) = twinport {
            return Err(format!(
                "unknown left operand {written:?}{}",
                hint(Some(&s))
            ));
        }
        return Err(format!(
            "unknown left operand {written:?} (did you mean \"claim:{written}\"? a partner's attested claim is written claim:NAME)"
        ));
    }
    if written.starts_with(TWINPORT_CLAIM_NS) {
        return Ok(lo);
    }
    if let Some((prefix, rest)) = written.split_once(':') {
        if !rest.starts_with("//") && !KNOWN_PREFIXES.contains(&prefix) {
            if let Some(p) = closest(prefix, KNOWN_PREFIXES.iter().copied()) {
                return Err(format!(
                    "unknown prefix {prefix:?} in left operand {written:?}{}",
                    hint(Some(&format!("{p}:{rest}")))
                ));
            }
        }
    }
    Ok(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_operands_in_every_spelling() {
        assert_eq!(left_operand("purpose"), Ok(LeftOperand::Purpose));
        assert_eq!(
            left_operand("claim:membership"),
            Ok(LeftOperand::Claim("membership".into()))
        );
        assert!(left_operand("deliveryChannel").is_ok());
        assert!(left_operand("odrl:deliveryChannel").is_ok());
        assert!(left_operand("ex:colour").is_ok());
        assert!(left_operand("https://example.org/colour").is_ok());
        assert!(left_operand("odrl:purpse")
            .unwrap_err()
            .contains("did you mean \"purpose\""));
        assert!(left_operand("twinport:resourceKnd")
            .unwrap_err()
            .contains("twinport:resourceKind"));
        assert!(left_operand("claims:membership")
            .unwrap_err()
            .contains("claim:membership"));
        assert!(left_operand("https://www.w3.org/ns/odrl/2/purpose")
            .unwrap_err()
            .contains("odrl:purpose"));
        assert!(left_operand("ODRL:purpose")
            .unwrap_err()
            .contains("odrl:purpose"));
        assert_eq!(
            odrl_misspelt("odrl2:distribute").as_deref(),
            Some("odrl:distribute")
        );
        assert_eq!(odrl_misspelt("odrl:distribute"), None);
        assert_eq!(odrl_misspelt("ex:distribute"), None);
        assert_eq!(odrl_misspelt("https://example.org/odrl-ish"), None);
        assert!(left_operand("dayofweek")
            .unwrap_err()
            .contains("twinport:dayOfWeek"));
    }

    #[test]
    fn the_stage_is_suggested_as_twinport_stage() {
        assert_eq!(
            left_operand("twinport:stage"),
            Ok(LeftOperand::ResourceStage)
        );
        assert_eq!(
            left_operand("twinport:resourceStage"),
            Ok(LeftOperand::ResourceStage),
            "the deprecated name is still read, not reported as unknown"
        );
        assert_eq!(
            left_operand("https://w3id.org/twinport/ldt#resourceStage"),
            Ok(LeftOperand::ResourceStage)
        );
        for (written, unknown) in [
            ("twinport:stag", "unknown Twinport left operand \"stag\""),
            ("twinport:Stage", "unknown Twinport left operand \"Stage\""),
            (
                "https://w3id.org/twinport/ldt#stages",
                "unknown Twinport left operand \"stages\"",
            ),
            (
                "twinport:resourceStge",
                "unknown Twinport left operand \"resourceStge\"",
            ),
            ("stage", "unknown left operand \"stage\""),
            ("stag", "unknown left operand \"stag\""),
        ] {
            let e = left_operand(written).unwrap_err();
            assert_eq!(
                e,
                format!("{unknown} (did you mean \"twinport:stage\"?)"),
                "{written}"
            );
        }
    }
}
