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
