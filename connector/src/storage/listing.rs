//! One page of a management list: the filters an operator gives, as conditions on the listed table, and keyset
//! paging on the list's order (`after` the last row shown), so a page is one indexed query on SQLite and PostgreSQL
//! alike and never skips or repeats a row when others are added meanwhile, as an offset would.

/// A time window on a text timestamp column, compared to the second: `since` inclusive, `until` exclusive. Both are
/// `YYYY-MM-DDTHH:MM:SS` in UTC. The columns hold RFC 3339 text whose fraction has as many digits as it needs, so
/// the text of two instants in the same second does not sort as time does; their first 19 characters do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Which page: the order key of the last row already seen (none for the first page) and how many rows at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<Vec<String>>,
    pub limit: u32,
}

/// A page of rows, with the order key of its last row when more rows follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Vec<String>>,
}

/// The `WHERE … ORDER BY … LIMIT` of one list query, with its text arguments in placeholder order.
#[derive(Debug, Default)]
pub(super) struct Conditions {
    parts: Vec<String>,
    args: Vec<String>,
}

impl Conditions {
    /// Adds `condition`, whose `?` marks stand for `values` in order (columns and SQL come from code, never from
    /// a request; only values are bound).
    pub(super) fn add(&mut self, condition: &str, values: &[&str]) {
        let mut sql = String::with_capacity(condition.len() + 8);
        let mut values = values.iter();
        for c in condition.chars() {
            if c == '?' {
                let value = values.next().expect("a value for each ? of a condition");
                self.args.push((*value).to_string());
                sql.push_str(&format!("${}", self.args.len()));
            } else {
                sql.push(c);
            }
        }
        self.parts.push(sql);
    }

    pub(super) fn equals(&mut self, column: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.add(&format!("{column} = ?"), &[v]);
        }
    }

    pub(super) fn within(&mut self, column: &str, window: &Window) {
        if let Some(since) = &window.since {
            self.add(&format!("substr({column}, 1, 19) >= ?"), &[since]);
        }
        if let Some(until) = &window.until {
            self.add(&format!("substr({column}, 1, 19) < ?"), &[until]);
        }
    }

    /// The rows after `page.after` in the order of `keys`, that order, and one row more than the page holds (to
    /// know whether another page follows).
    pub(super) fn page(mut self, keys: &[&str], page: &PageRequest) -> (String, Vec<String>) {
        if let Some(after) = &page.after {
            // (k1 > a1) OR (k1 = a1 AND k2 > a2) …: what sorts after the last row seen.
            let mut alternatives = Vec::new();
            let mut values: Vec<&str> = Vec::new();
            for i in 0..keys.len().min(after.len()) {
                let mut terms: Vec<String> = keys[..i].iter().map(|k| format!("{k} = ?")).collect();
                terms.push(format!("{} > ?", keys[i]));
                values.extend(after[..=i].iter().map(String::as_str));
                alternatives.push(format!("({})", terms.join(" AND ")));
            }
            if !alternatives.is_empty() {
                self.add(&format!("({})", alternatives.join(" OR ")), &values);
            }
        }
        let filter = if self.parts.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.parts.join(" AND "))
        };
        let sql = format!(
            "{filter} ORDER BY {} LIMIT {}",
            keys.join(", "),
            u64::from(page.limit) + 1
        );
        (sql, self.args)
    }
}

/// Keeps `limit` rows of what a [`Conditions::page`] query read, with the key of the last kept row when it read
/// more.
pub(super) fn paged<T>(
    mut rows: Vec<T>,
    page: &PageRequest,
    key: impl Fn(&T) -> Vec<String>,
) -> Page<T> {
    let limit = page.limit as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(key) } else { None };
    Page { items: rows, next }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_number_their_arguments_and_page_after_the_last_key() {
        let mut c = Conditions::default();
        c.equals("state", Some("FINALIZED"));
        c.equals("role", None);
        c.add("(provider = ? OR consumer = ?)", &["p", "p"]);
        c.within(
            "created_at",
            &Window {
                since: Some("2026-12-01T00:00:00".into()),
                until: None,
            },
        );
        let page = PageRequest {
            after: Some(vec!["2026-12-02T10:00:00Z".into(), "urn:uuid:9".into()]),
            limit: 2,
        };
        let (sql, args) = c.page(&["created_at", "id"], &page);
        assert_eq!(
            sql,
            "WHERE state = $1 AND (provider = $2 OR consumer = $3) AND substr(created_at, 1, 19) >= $4 \
             AND ((created_at > $5) OR (created_at = $6 AND id > $7)) ORDER BY created_at, id LIMIT 3"
        );
        assert_eq!(
            args,
            [
                "FINALIZED",
                "p",
                "p",
                "2026-12-01T00:00:00",
                "2026-12-02T10:00:00Z",
                "2026-12-02T10:00:00Z",
                "urn:uuid:9"
            ]
        );
        let (sql, args) = Conditions::default().page(
            &["id"],
            &PageRequest {
                after: None,
                limit: 5,
            },
        );
        assert_eq!((sql.as_str(), args.len()), (" ORDER BY id LIMIT 6", 0));
    }

    #[test]
    fn a_page_keeps_its_limit_and_names_the_key_of_its_last_row_when_more_follow() {
        let page = PageRequest {
            after: None,
            limit: 2,
        };
        let p = paged(vec![1, 2, 3], &page, |n| vec![n.to_string()]);
        assert_eq!((p.items, p.next), (vec![1, 2], Some(vec!["2".to_string()])));
        let p = paged(vec![1, 2], &page, |n| vec![n.to_string()]);
        assert_eq!((p.items, p.next), (vec![1, 2], None));
    }
}
