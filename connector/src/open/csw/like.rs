//! OGC Filter / CQL LIKE patterns: a wildcard for any run of characters, one for a single character and an escape
//! character, as the filter declares them (`%`, `_` and `\` by default). Matching is against the whole value and
//! ignores case, as pycsw's SQL LIKE does.

use super::exception::CswError;

/// The longest pattern read: matching costs up to its length times the text's, for every index entry.
const MAX_PATTERN: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    /// Any run of characters (`%` by default).
    Many,
    /// Exactly one character (`_` by default).
    One,
}

/// A LIKE pattern, lower-cased.
#[derive(Debug, Clone, PartialEq)]
pub struct Like {
    tokens: Vec<Token>,
    /// The literal runs between wildcards, to rule entries out on the index.
    pub fragments: Vec<String>,
}

impl Like {
    /// Reads `pattern` with the wildcard, single-character and escape characters the filter declares.
    pub fn parse(
        pattern: &str,
        wild: char,
        single: char,
        escape: Option<char>,
    ) -> Result<Like, CswError> {
        if pattern.chars().count() > MAX_PATTERN {
            return Err(CswError::invalid(
                "Constraint",
                format!("a LIKE pattern may have at most {MAX_PATTERN} characters"),
            ));
        }
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            let token = if Some(c) == escape {
                match chars.next() {
                    Some(next) => Token::Char(next),
                    None => Token::Char(c),
                }
            } else if c == wild {
                Token::Many
            } else if c == single {
                Token::One
            } else {
                Token::Char(c)
            };
            match token {
                Token::Char(c) => tokens.extend(c.to_lowercase().map(Token::Char)),
                // Runs of `%` are one `%`.
                Token::Many if tokens.last() == Some(&Token::Many) => {}
                t => tokens.push(t),
            }
        }
        let mut fragments = Vec::new();
        let mut run = String::new();
        for t in &tokens {
            match t {
                Token::Char(c) => run.push(*c),
                _ if !run.is_empty() => fragments.push(std::mem::take(&mut run)),
                _ => {}
            }
        }
        if !run.is_empty() {
            fragments.push(run);
        }
        Ok(Like { tokens, fragments })
    }

    /// Whether the whole of `text` (lower-cased by the caller) matches.
    pub fn matches(&self, text: &str) -> bool {
        if self.tokens.contains(&Token::One) {
            // Every literal run must be in the text somewhere: a cheap test that rules most texts out before the
            // character-by-character match.
            self.fragments.iter().all(|f| text.contains(f.as_str())) && self.matches_by_char(text)
        } else {
            self.matches_by_runs(text)
        }
    }

    /// Steps per character of text the match may take: the pattern's length with a single-character wildcard
    /// (matched character by character, with backtracking), none without (substring search).
    pub fn char_matching_cost(&self) -> usize {
        if self.tokens.contains(&Token::One) {
            self.tokens.len()
        } else {
            0
        }
    }

    /// Without single-character wildcards a pattern is literal runs between `%`s: the leftmost place for each run
    /// is the right one, so substring search decides it without backtracking (the common `%word%` case).
    fn matches_by_runs(&self, text: &str) -> bool {
        let anchored_start = self.tokens.first() != Some(&Token::Many);
        let anchored_end = self.tokens.last() != Some(&Token::Many);
        let runs = &self.fragments;
        if self.tokens.is_empty() {
            return text.is_empty();
        }
        if runs.is_empty() {
            // Only `%`.
            return true;
        }
        if anchored_start && anchored_end && runs.len() == 1 {
            return text == runs[0];
        }
        let mut rest = text;
        let mut middle = &runs[..];
        if anchored_start {
            match rest.strip_prefix(runs[0].as_str()) {
                Some(r) => rest = r,
                None => return false,
            }
            middle = &middle[1..];
        }
        let last = if anchored_end {
            let (last, m) = middle
                .split_last()
                .map_or((None, middle), |(l, m)| (Some(l), m));
            middle = m;
            last
        } else {
            None
        };
        for run in middle {
            match rest.find(run.as_str()) {
                Some(at) => rest = &rest[at + run.len()..],
                None => return false,
            }
        }
        match last {
            Some(run) => rest.ends_with(run.as_str()),
            None => true,
        }
    }

    /// The general case, character by character with backtracking to the last `%`.
    fn matches_by_char(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let p = &self.tokens;
        let (mut ti, mut pi) = (0usize, 0usize);
        // Where the last `%` was and how much of the text it has taken, to backtrack to.
        let mut star: Option<(usize, usize)> = None;
        while ti < text.len() {
            match p.get(pi) {
                Some(Token::Char(c)) if *c == text[ti] => {
                    ti += 1;
                    pi += 1;
                }
                Some(Token::One) => {
                    ti += 1;
                    pi += 1;
                }
                Some(Token::Many) => {
                    star = Some((pi + 1, ti));
                    pi += 1;
                }
                _ => match star {
                    Some((after, taken)) => {
                        pi = after;
                        ti = taken + 1;
                        star = Some((after, taken + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|t| *t == Token::Many)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(p: &str) -> Like {
        Like::parse(p, '%', '_', Some('\\')).unwrap()
    }

    #[test]
    fn like_patterns_match_the_whole_text_ignoring_case() {
        assert!(like("%flood%").matches("pluvial flood simulation"));
        assert!(like("%FLOOD%").matches("pluvial flood simulation"));
        assert!(!like("flood%").matches("pluvial flood simulation"));
        assert!(like("pluvial%").matches("pluvial flood simulation"));
        assert!(like("p_uvial%n").matches("pluvial flood simulation"));
        assert!(!like("p_uvial").matches("pluvial flood simulation"));
        assert!(like("%").matches(""));
        assert!(like("%a%b%c%").matches("xaxxbxxc"));
        assert!(!like("%a%b%c%").matches("xaxxcxxb"));
        // An escaped wildcard is a literal.
        assert!(like("100\\%").matches("100%"));
        assert!(!like("100\\%").matches("1000"));
        assert_eq!(like("%heat%stress%").fragments, vec!["heat", "stress"]);
        // Other wildcard characters, as the filter declares them.
        let star = Like::parse("*flood?", '*', '?', None).unwrap();
        assert!(star.matches("a flood!"));
        assert!(Like::parse(&"x".repeat(600), '%', '_', None).is_err());
    }

    /// The substring path and the character path agree.
    #[test]
    fn both_matchers_agree() {
        let texts = [
            "",
            "a",
            "ab",
            "abc",
            "abcabc",
            "xaxxbxxc",
            "flood",
            "pluvial flood simulation",
        ];
        let patterns = [
            "",
            "%",
            "a",
            "a%",
            "%a",
            "%a%",
            "a%c",
            "%b%",
            "ab%bc",
            "abc%abc",
            "%a%b%c%",
            "%c%b%",
            "flood",
            "%flood%",
            "pluvial%simulation",
            "%lood sim%",
            "abcabc%abc",
            "%abc%abc",
        ];
        for p in patterns {
            let l = like(p);
            for t in texts {
                assert_eq!(l.matches_by_runs(t), l.matches_by_char(t), "{p:?} on {t:?}");
            }
        }
    }
}
