//! OGC CQL text (`constraintLanguage=CQL_TEXT`, and `csw:CqlText` in XML) for the conditions pycsw's examples
//! and clients use: `dc:title like '%lor%'`, `csw:AnyText ILIKE '%x%'`, `NOT LIKE`, `=`, `<>`, `<`, `<=`, `>`,
//! `>=`, `AND`, `OR`, `NOT`, parentheses and `BBOX(ows:BoundingBox, minx, miny, maxx, maxy[, 'crs'])` (longitude
//! first unless the crs says otherwise). Anything else is a 400 naming what could not be read.

use super::crs::{self, AxisOrder};
use super::exception::CswError;
use super::filter::{Comparison, Filter, Like, Property, MAX_CONDITIONS};

/// How deeply parentheses and NOTs may nest.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(String),
    Open,
    Close,
    Comma,
    Op(&'static str),
}

fn refuse(text: impl Into<String>) -> CswError {
    CswError::invalid("Constraint", format!("CQL: {}", text.into()))
}

fn tokens(s: &str) -> Result<Vec<Token>, CswError> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1
            }
            ')' => {
                out.push(Token::Close);
                i += 1
            }
            ',' => {
                out.push(Token::Comma);
                i += 1
            }
            '\'' => {
                // '' inside a string is a quote.
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(refuse("a string is not closed")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            text.push(*c);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Text(text));
            }
            '=' => {
                out.push(Token::Op("="));
                i += 1
            }
            '<' | '>' | '!' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match two.as_str() {
                    "<=" => "<=",
                    ">=" => ">=",
                    "<>" | "!=" => "<>",
                    _ if c == '<' => "<",
                    _ if c == '>' => ">",
                    _ => return Err(refuse("unexpected '!'")),
                };
                i += op.len();
                out.push(Token::Op(op));
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || matches!(chars[i], '.' | 'e' | 'E' | '-' | '+'))
                {
                    i += 1;
                }
                out.push(Token::Number(chars[start..i].iter().collect()));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | ':' | '.'))
                {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
            other => return Err(refuse(format!("unexpected {other:?}"))),
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, t: Token, what: &str) -> Result<(), CswError> {
        match self.next() {
            Some(got) if got == t => Ok(()),
            _ => Err(refuse(format!("expected {what}"))),
        }
    }

    fn or(&mut self) -> Result<Filter, CswError> {
        let mut parts = vec![self.and()?];
        while self.keyword("OR") {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Filter, CswError> {
        let mut parts = vec![self.factor()?];
        while self.keyword("AND") {
            self.at += 1;
            parts.push(self.factor()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    fn factor(&mut self) -> Result<Filter, CswError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(refuse("the expression nests too deeply"));
        }
        let f = if self.keyword("NOT") {
            self.at += 1;
            Filter::Not(Box::new(self.factor()?))
        } else if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let f = self.or()?;
            self.expect(Token::Close, "')'")?;
            f
        } else if self.keyword("BBOX") {
            self.at += 1;
            self.bbox()?
        } else {
            self.predicate()?
        };
        self.depth -= 1;
        Ok(f)
    }

    fn predicate(&mut self) -> Result<Filter, CswError> {
        let name = match self.next() {
            Some(Token::Word(w)) => w,
            _ => return Err(refuse("expected a property name")),
        };
        let property = Property::parse(&name)?;
        let negated = self.keyword("NOT");
        if negated {
            self.at += 1;
        }
        if self.keyword("LIKE") || self.keyword("ILIKE") {
            self.at += 1;
            let pattern = match self.next() {
                Some(Token::Text(t)) => t,
                _ => return Err(refuse("LIKE needs a quoted pattern")),
            };
            let f = Filter::like(property, Like::parse(&pattern, '%', '_', Some('\\'))?)?;
            return Ok(if negated { Filter::Not(Box::new(f)) } else { f });
        }
        if negated {
            return Err(refuse("NOT after a property name must be followed by LIKE"));
        }
        let op = match self.next() {
            Some(Token::Op(op)) => op,
            _ => {
                return Err(refuse(format!(
                    "expected LIKE or a comparison after {name}"
                )))
            }
        };
        let value = match self.next() {
            Some(Token::Text(v)) | Some(Token::Number(v)) => v,
            _ => return Err(refuse(format!("expected a value after {name} {op}"))),
        };
        let cmp = |c| Filter::compare(property, c, &value);
        Ok(match op {
            "=" => cmp(Comparison::Equal)?,
            "<>" => Filter::Not(Box::new(cmp(Comparison::Equal)?)),
            "<" => cmp(Comparison::Less)?,
            "<=" => cmp(Comparison::LessOrEqual)?,
            ">" => cmp(Comparison::Greater)?,
            _ => cmp(Comparison::GreaterOrEqual)?,
        })
    }

    fn bbox(&mut self) -> Result<Filter, CswError> {
        self.expect(Token::Open, "'(' after BBOX")?;
        match self.next() {
            Some(Token::Word(w)) if Property::parse(&w)? == Property::BoundingBox => {}
            _ => return Err(refuse("BBOX applies to ows:BoundingBox")),
        }
        let mut numbers = Vec::new();
        for _ in 0..4 {
            self.expect(Token::Comma, "','")?;
            match self.next() {
                Some(Token::Number(n)) => numbers.push(n),
                _ => return Err(refuse("BBOX needs four numbers")),
            }
        }
        let srs = if self.peek() == Some(&Token::Comma) {
            self.at += 1;
            match self.next() {
                Some(Token::Text(t)) => Some(t),
                _ => return Err(refuse("the BBOX crs must be quoted")),
            }
        } else {
            None
        };
        self.expect(Token::Close, "')' after the BBOX numbers")?;
        let order = crs::axis_order(srs.as_deref(), AxisOrder::LonLat)?;
        let b = crs::envelope(
            &format!("{} {}", numbers[0], numbers[1]),
            &format!("{} {}", numbers[2], numbers[3]),
            order,
        )?;
        Ok(Filter::BBox(b))
    }
}

/// Reads a CQL text constraint.
pub fn parse(text: &str) -> Result<Filter, CswError> {
    let mut p = Parser {
        tokens: tokens(text)?,
        at: 0,
        depth: 0,
    };
    if p.tokens.is_empty() {
        return Err(refuse("the constraint is empty"));
    }
    let f = p.or()?;
    if p.at < p.tokens.len() {
        return Err(refuse("unexpected text after the condition"));
    }
    if f.conditions() > MAX_CONDITIONS {
        return Err(refuse(format!("at most {MAX_CONDITIONS} conditions")));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(p: &str) -> Like {
        Like::parse(p, '%', '_', Some('\\')).unwrap()
    }

    #[test]
    fn pycsw_style_cql_is_read() {
        assert_eq!(
            parse("dc:title like '%lor%'").unwrap(),
            Filter::Like(Property::Title, like("%lor%"))
        );
        assert_eq!(
            parse("dc:title like '%dolor sit%' or dct:abstract like '%pharetra in%'").unwrap(),
            Filter::Or(vec![
                Filter::Like(Property::Title, like("%dolor sit%")),
                Filter::Like(Property::Abstract, like("%pharetra in%")),
            ])
        );
        assert_eq!(
            parse("AnyText ILIKE '%it''s%'").unwrap(),
            Filter::Like(Property::AnyText, like("%it's%"))
        );
        assert_eq!(
            parse("NOT (dc:type = 'service') AND csw:AnyText NOT LIKE '%x%'").unwrap(),
            Filter::And(vec![
                Filter::Not(Box::new(
                    Filter::compare(Property::Type, Comparison::Equal, "service").unwrap()
                )),
                Filter::Not(Box::new(Filter::Like(Property::AnyText, like("%x%")))),
            ])
        );
        assert_eq!(
            parse("BBOX(ows:BoundingBox, 4.7, 52.3, 5.1, 52.5)").unwrap(),
            Filter::BBox([4.7, 52.3, 5.1, 52.5])
        );
        assert_eq!(
            parse("BBOX(ows:BoundingBox, 52.3, 4.7, 52.5, 5.1, 'urn:ogc:def:crs:EPSG::4326')")
                .unwrap(),
            Filter::BBox([4.7, 52.3, 5.1, 52.5])
        );
        assert!(matches!(
            parse("dct:modified >= '2024-01-01' and dct:modified <> '2025-01-01'").unwrap(),
            Filter::And(_)
        ));
    }

    #[test]
    fn what_cannot_be_read_is_refused() {
        for (cql, mentions) in [
            ("", "empty"),
            ("dc:title like", "quoted pattern"),
            ("dc:title like '%x", "not closed"),
            ("dc:colour = 'red'", "colour"),
            ("dc:title ~ 'x'", "unexpected"),
            ("(dc:title like '%x%'", "')'"),
            ("dc:title like '%x%' dc:title", "after the condition"),
            ("BBOX(ows:BoundingBox, 1, 2, 3)", "','"),
            ("BBOX(dc:title, 1, 2, 3, 4)", "BoundingBox"),
            ("INTERSECTS(ows:BoundingBox, POINT(1 2))", "INTERSECTS"),
        ] {
            let e = parse(cql).unwrap_err();
            assert!(e.text.contains(mentions), "{cql}: {}", e.text);
            assert_eq!(e.code, "InvalidParameterValue");
        }
        let deep = format!("{}dc:title like 'x'{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).unwrap_err().text.contains("deeply"));
    }
}
