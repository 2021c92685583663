//! "Did you mean …?" for the words a legal team types: keys, actions, operators and left operands. A misspelt
//! word must never be read as something else silently, so the parser refuses it; this module only finds the word
//! that was probably meant, to put in the message.

/// The candidate closest to `word`: the same word in another case first, then the nearest by
/// Damerau-Levenshtein distance (at most 1 for words of up to four letters, at most 2 for longer ones).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = if word.chars().count() <= 4 { 1 } else { 2 };
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let d = if c.to_lowercase() == lower {
            0
        } else {
            strsim::damerau_levenshtein(&lower, &c.to_lowercase())
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// ` (did you mean "x"?)`, or nothing.
pub fn hint(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean {s:?}?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_meant_word() {
        let keys = ["constraint", "action", "target", "duty"];
        assert_eq!(closest("constraints", keys), Some("constraint"));
        assert_eq!(closest("Constraint", keys), Some("constraint"));
        assert_eq!(closest("actoin", keys), Some("action"));
        assert_eq!(closest("dty", keys), Some("duty"));
        assert_eq!(closest("colour", keys), None);
        assert_eq!(closest("constraint", keys), None);
        assert_eq!(hint(Some("purpose")), " (did you mean \"purpose\"?)");
        assert_eq!(hint(None), "");
    }
}
