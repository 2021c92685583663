//! Where the Records documents live and how they point at each other: every URL is built from the connector's
//! public URL (never from the request's Host), record ids become one percent-encoded path segment, and links are
//! the `{rel, href, type, title}` objects of OGC API Common.

use serde_json::{Map, Value};

use crate::config::CatalogueInfo;

/// Where records and the catalogue live, and the catalogue's defaults.
pub struct Ctx<'a> {
    /// The connector's public URL, without a trailing slash.
    pub public_url: &'a str,
    pub info: &'a CatalogueInfo,
}

impl Ctx<'_> {
    /// `<public>/records`.
    pub fn base(&self) -> String {
        format!("{}{}", self.public_url, crate::open::RECORDS_PATH)
    }

    pub fn collection_url(&self) -> String {
        format!("{}/collections/{}", self.base(), super::COLLECTION_ID)
    }

    pub fn items_url(&self) -> String {
        format!("{}/items", self.collection_url())
    }

    pub fn item_url(&self, id: &str) -> String {
        crate::paths::record_url(self.public_url, id)
    }

    pub fn vocab(&self) -> String {
        format!("{}{}", self.public_url, crate::paths::VOCAB_PATH)
    }
}

/// A link object.
pub fn link(rel: &str, href: impl Into<String>, media: Option<&str>, title: Option<&str>) -> Value {
    let mut l = Map::new();
    l.insert("rel".into(), rel.into());
    l.insert("href".into(), Value::String(href.into()));
    if let Some(m) = media {
        l.insert("type".into(), m.into());
    }
    if let Some(t) = title {
        l.insert("title".into(), t.into());
    }
    Value::Object(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_path_segment() {
        let info = crate::config::CatalogueInfo {
            title: "t".into(),
            description: None,
            publisher_id: "https://p.example".into(),
            publisher_name: "P".into(),
            homepage: None,
            language: vec![],
            license: None,
            contact_point: None,
        };
        let ctx = Ctx {
            public_url: "https://twin.example",
            info: &info,
        };
        assert_eq!(
            ctx.item_url("https://data.example/a b?c"),
            "https://twin.example/records/collections/catalogue/items/https:%2F%2Fdata.example%2Fa%20b%3Fc"
        );
        assert_eq!(
            ctx.item_url("urn:ldt:x"),
            "https://twin.example/records/collections/catalogue/items/urn:ldt:x"
        );
    }
}
