//! The open catalogue's index: of each discoverable resource, only what searches compare (kind, box, time, change
//! date and the lower-cased words of its title, description and keywords), read once per catalogue version. A
//! page's records are read whole from the store when the page is rendered, as the DSP catalogue views do, so
//! 10 000 discoverable resources cost the index a few MiB, not the 21 MiB the whole resources take.

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::super::kind::ResourceKind;
use super::super::metadata::Bbox;
use super::super::resource::{span, Temporal};
use crate::storage::{Stamps, StorageError, Store};

/// One discoverable resource as searches see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub kind: ResourceKind,
    /// Title, description and keywords, lower-cased, separated by newlines.
    pub text: String,
    pub bbox: Option<Bbox>,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
    pub modified: OffsetDateTime,
}

/// The fields the index reads of a stored resource (the rest are skipped).
#[derive(Deserialize)]
struct Indexed {
    id: String,
    kind: ResourceKind,
    #[serde(default)]
    discoverable: bool,
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    bbox: Option<Bbox>,
    #[serde(default)]
    temporal: Option<Temporal>,
}

/// The discoverable resources of one catalogue version, in id order.
#[derive(Debug, Default)]
pub struct Index {
    pub version: i64,
    pub entries: Vec<Entry>,
    /// The latest change of any discoverable resource (the catalogue's `modified`), and the earliest creation.
    pub modified: Option<OffsetDateTime>,
    pub issued: Option<OffsetDateTime>,
    /// The union of the records' boxes.
    pub extent: Option<Bbox>,
    /// A value that moves on whenever a discoverable record is added, changed or removed, and only then (CSW's
    /// `updateSequence`): the catalogue version would also move with private resources and policies, which an
    /// anonymous client has no business seeing.
    pub update_sequence: String,
}

impl Index {
    /// Whether `id` is a discoverable resource (entries are in id order).
    pub fn contains(&self, id: &str) -> bool {
        self.entries
            .binary_search_by(|e| e.id.as_str().cmp(id))
            .is_ok()
    }

    pub async fn read(store: &Store, version: i64) -> Result<Index, StorageError> {
        let mut index = Index {
            version,
            ..Index::default()
        };
        store
            .each_resource_with_stamps(|id, body, stamps| {
                match serde_json::from_str::<Indexed>(body) {
                    Ok(r) if r.discoverable => index.add(r, &stamps),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(resource = %id, error = %e, "stored resource no longer parses; not published")
                    }
                }
            })
            .await?;
        index.entries.shrink_to_fit();
        index.update_sequence = update_sequence(&index.entries);
        Ok(index)
    }

    fn add(&mut self, r: Indexed, stamps: &Stamps) {
        let modified = parse_stamp(&stamps.updated);
        let issued = parse_stamp(&stamps.created);
        self.modified = self.modified.max(Some(modified));
        self.issued = Some(self.issued.map_or(issued, |i| i.min(issued)));
        if let Some(b) = r.bbox {
            self.extent = Some(match self.extent {
                None => b,
                Some(e) => [
                    e[0].min(b[0]),
                    e[1].min(b[1]),
                    e[2].max(b[2]),
                    e[3].max(b[3]),
                ],
            });
        }
        let mut text = r.title.to_lowercase();
        for part in r.description.iter().chain(r.keywords.iter()) {
            text.push('\n');
            text.push_str(&part.to_lowercase());
        }
        text.shrink_to_fit();
        // A coverage from one date to another includes all of the last day.
        let (start, end) = match &r.temporal {
            Some(t) => (
                t.start.as_deref().and_then(span).map(|(first, _)| first),
                t.end.as_deref().and_then(span).map(|(_, last)| last),
            ),
            None => (None, None),
        };
        self.entries.push(Entry {
            id: r.id,
            kind: r.kind,
            text,
            bbox: r.bbox,
            start,
            end,
            modified,
        });
    }
}

/// A stored time stamp; the store writes RFC 3339, and a row that somehow is not reads as the epoch rather than
/// hiding the resource.
pub fn parse_stamp(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn update_sequence(entries: &[Entry]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for e in entries {
        hash.update(e.id.as_bytes());
        hash.update([0]);
        hash.update(e.modified.unix_timestamp_nanos().to_be_bytes());
    }
    hex::encode(&hash.finalize()[..8])
}
