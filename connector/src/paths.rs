//! Where each surface lives under the connector's public URL. Domain code builds the addresses it hands to partners
//! (callback addresses, data addresses, push endpoints) from these without depending on the surfaces that serve them.

/// Path of the DSP 2025-1 binding under the connector's root, as advertised in `/.well-known/dspace-version`.
pub const DSP_PATH: &str = "/dsp/2025-1";
/// Where data addresses live under the public URL (`<public_url>/data/<providerPid>`).
pub const DATA_PATH: &str = "/data";
/// Where a Twinport consumer receives pushed data (`<public_url>/push/<consumerPid>`).
pub const PUSH_PATH: &str = "/push";
/// The Twinport extensions document (see [`crate::partners::extensions`]).
pub const EXTENSIONS_PATH: &str = "/.well-known/twinport";
/// Twinport's LDT vocabulary (kinds and stages as SKOS concepts), served as Turtle.
pub const VOCAB_PATH: &str = "/vocab/ldt";
/// The open catalogue's OGC API Records landing page, its one catalogue collection, and CSW endpoint.
pub const RECORDS_PATH: &str = "/records";
pub const RECORDS_COLLECTION: &str = "catalogue";
pub const CSW_PATH: &str = "/csw";

/// What a path segment must escape: a record id is an IRI or URN and goes into `/items/{id}` whole.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A discoverable resource's record page on the OGC API Records interface; DCAT links to it as the resource's
/// page.
pub fn record_url(public_url: &str, id: &str) -> String {
    format!(
        "{public_url}{RECORDS_PATH}/collections/{RECORDS_COLLECTION}/items/{}",
        percent_encoding::utf8_percent_encode(id, SEGMENT)
    )
}
