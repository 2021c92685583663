//! GetRecords and GetRecordById against the open catalogue. A constraint is decided on the index first; only the
//! entries it leaves undecided are read whole (in batches) and decided on their records, so the count stays exact
//! and a selective search over 10 000 resources reads a handful of them. Then sorting, the page, and the page's
//! records.

use std::collections::HashMap;

use super::exception::CswError;
use super::filter::Tri;
use super::request::{GetRecords, ResultType, SortKey};
use crate::catalogue::public::{Entry, Index, OpenCatalogue, PublicRecord};

/// How many records one read from the store fetches.
const BATCH: usize = 500;

/// The most character comparisons a constraint's single-character wildcards may cost over the whole index (about
/// a tenth of a second): an anonymous request must not hold a core for seconds.
const CHAR_MATCHING_BUDGET: usize = 50_000_000;

/// The outcome of a GetRecords.
pub struct Found {
    pub matched: usize,
    pub records: Vec<PublicRecord>,
    /// The `startPosition` of the next page; 0 when this one is the last.
    pub next: usize,
}

pub async fn get_records(open: &OpenCatalogue, q: &GetRecords) -> Result<Found, CswError> {
    let index = open.index().await?;
    if let Some(filter) = &q.filter {
        let per_char = filter.char_matching_cost();
        if per_char > 0 {
            let text: usize = index.entries.iter().map(|e| e.text.len()).sum();
            if per_char.saturating_mul(text) > CHAR_MATCHING_BUDGET {
                return Err(CswError::invalid(
                    "Constraint",
                    "the constraint's single-character wildcards (_) would take too long to match over this \
                     catalogue: use fewer or shorter patterns, or % instead",
                ));
            }
        }
    }
    let mut loaded: HashMap<String, PublicRecord> = HashMap::new();
    let mut matched: Vec<&Entry> = match &q.filter {
        None => index.entries.iter().collect(),
        Some(filter) => {
            let verdicts: Vec<(&Entry, Tri)> = index
                .entries
                .iter()
                .map(|e| (e, filter.eval(e, None)))
                .filter(|(_, t)| *t != Tri::No)
                .collect();
            let undecided: Vec<String> = verdicts
                .iter()
                .filter(|(_, t)| *t == Tri::Maybe)
                .map(|(e, _)| e.id.clone())
                .collect();
            loaded = load(open, &index, &undecided).await?;
            verdicts
                .into_iter()
                .filter(|(e, t)| match t {
                    Tri::Yes => true,
                    // A record gone since the index was read is no longer a match.
                    _ => loaded
                        .get(&e.id)
                        .is_some_and(|r| filter.eval(e, Some(r)) == Tri::Yes),
                })
                .map(|(e, _)| e)
                .collect()
        }
    };
    if let Some(sort) = q.sort {
        match sort.key {
            SortKey::Identifier => matched.sort_by(|a, b| a.id.cmp(&b.id)),
            SortKey::Modified => {
                matched.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.id.cmp(&b.id)))
            }
        }
        if sort.descending {
            matched.reverse();
        }
    }
    let total = matched.len();
    let start = q.start_position.saturating_sub(1);
    if q.result_type == ResultType::Hits || q.max_records == 0 {
        // Nothing is returned, so the next record to ask for is the first one asked for.
        let next = if start < total { q.start_position } else { 0 };
        return Ok(Found {
            matched: total,
            records: Vec::new(),
            next,
        });
    }
    let end = start.saturating_add(q.max_records).min(total);
    let page: Vec<&Entry> = matched.get(start..end).unwrap_or_default().to_vec();
    let missing: Vec<String> = page
        .iter()
        .filter(|e| !loaded.contains_key(&e.id))
        .map(|e| e.id.clone())
        .collect();
    loaded.extend(load(open, &index, &missing).await?);
    let records = page.iter().filter_map(|e| loaded.remove(&e.id)).collect();
    Ok(Found {
        matched: total,
        records,
        next: if end < total { end + 1 } else { 0 },
    })
}

/// The records of `ids` that exist and are discoverable, in the order asked for, each once.
pub async fn by_ids(open: &OpenCatalogue, ids: &[String]) -> Result<Vec<PublicRecord>, CswError> {
    let index = open.index().await?;
    // Only ids the index knows are read: an unknown or partner-only id costs no read, like any other.
    let known: Vec<String> = ids
        .iter()
        .filter(|id| index.contains(id))
        .cloned()
        .collect();
    let mut loaded = load(open, &index, &known).await?;
    Ok(ids.iter().filter_map(|id| loaded.remove(id)).collect())
}

async fn load(
    open: &OpenCatalogue,
    index: &Index,
    ids: &[String],
) -> Result<HashMap<String, PublicRecord>, CswError> {
    let mut out = HashMap::with_capacity(ids.len());
    for batch in ids.chunks(BATCH) {
        let records = open.records(index, batch).await?;
        out.extend(records.into_iter().map(|r| (r.id.clone(), r)));
    }
    Ok(out)
}
