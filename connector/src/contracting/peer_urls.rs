//! Addresses a partner known only by DID hands us to call back (its `callbackAddress`, the data address of a push
//! or of a pull it serves) get the same scrutiny as the URLs of its DID document: anyone with a membership can be
//! such a partner, so what it names must not make us call the city's own network (see
//! `identity::dcp::Dcp::check_partner_url`). Configured partners are trusted as configured.

use super::Contracting;
use crate::config::PartnerKeys;

/// Why we will not call `url` for `partner`, if we will not.
pub fn refusal(state: &Contracting, partner: &str, url: &str) -> Option<String> {
    let directory = state.partners().directory();
    let dcp = directory.dcp()?;
    match directory.get(partner)?.keys {
        PartnerKeys::Did => dcp.check_partner_url(url).err(),
        _ => None,
    }
}

/// The `endpoint` of a data address in JSON form.
pub fn endpoint(address: &serde_json::Value) -> Option<&str> {
    address.get("endpoint").and_then(serde_json::Value::as_str)
}
