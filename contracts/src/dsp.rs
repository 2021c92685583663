//! Protocol-wide constants of the Dataspace Protocol 2025-1 that every message and endpoint refers to.

/// The JSON-LD context every 2025-1 message carries; peers recognise the protocol version by it.
pub const DSP_CONTEXT: &str = "https://w3id.org/dspace/2025/1/context.jsonld";

/// The version string advertised in the `/.well-known/dspace-version` response.
pub const DSP_VERSION: &str = "2025-1";

/// The `dspace:` namespace, for expanding compact IRIs that some peers still send.
pub const DSPACE_NS: &str = "https://w3id.org/dspace/2025/1/";
