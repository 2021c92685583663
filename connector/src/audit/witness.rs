//! Holding partners to one history (split-view defence): fetch a partner's signed checkpoint, and accept it only if
//! a consistency proof links it to the last one we accepted. Accepting is logged as `partner_checkpoint`; an
//! inconsistency (or a changed key, or a shrinking log) is logged as `split_view_alarm`, reported at error level
//! and returned to the operator, and the newer checkpoint is not accepted.
//!
//! The partner's log key is trusted on first use and pinned from then on.
//!
//! These are Twinport-only endpoints: a partner is asked for them only when its `/.well-known/twinport` advertises
//! them (see [`crate::partners::extensions`]); the periodic round passes over every other partner without a request.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::json;
use twinport_contracts::transparency::checkpoint::SignedCheckpoint;
use twinport_contracts::transparency::merkle::{verify_consistency, Hash};
use twinport_contracts::transparency::note::NoteVerifier;

use super::PartnerLogs;
use super::VKEY_HEADER;
use super::{AuditEvent, EventKind};
use crate::error::ApiError;
use crate::partners::extensions::{self, Extension};

/// What checking a partner's checkpoint found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WitnessOutcome {
    /// First checkpoint seen from this partner; its key is now pinned.
    First { size: u64 },
    /// Same tree as before.
    Unchanged { size: u64 },
    /// The log grew consistently.
    Advanced { from: u64, to: u64 },
    /// The partner showed a history that contradicts what it showed us before.
    SplitView { reason: String },
}

/// The pure decision: is `new` an append-only successor of `old`, given the consistency proof between them?
pub fn assess(old: &SignedCheckpoint, new: &SignedCheckpoint, proof: &[Hash]) -> WitnessOutcome {
    let (o, n) = (&old.checkpoint, &new.checkpoint);
    if n.size < o.size {
        return WitnessOutcome::SplitView {
            reason: format!("log shrank from {} to {} entries", o.size, n.size),
        };
    }
    if n.size == o.size {
        return if n.root == o.root {
            WitnessOutcome::Unchanged { size: n.size }
        } else {
            WitnessOutcome::SplitView {
                reason: format!("two different roots for size {}", n.size),
            }
        };
    }
    match verify_consistency(o.size, n.size, proof, &o.root, &n.root) {
        Ok(()) => WitnessOutcome::Advanced {
            from: o.size,
            to: n.size,
        },
        // A proof from the empty tree is meaningless: any tree extends it.
        Err(_) if o.size == 0 => WitnessOutcome::Advanced {
            from: 0,
            to: n.size,
        },
        Err(e) => WitnessOutcome::SplitView {
            reason: format!(
                "checkpoint {} is not consistent with checkpoint {}: {e}",
                n.size, o.size
            ),
        },
    }
}

fn gateway(step: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::BadGateway(format!("{step}: {e}"))
}

async fn get_text(
    state: &PartnerLogs,
    partner: &str,
    url: &str,
) -> Result<(String, Option<String>), ApiError> {
    let token = state
        .identity()
        .token_for(partner)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // The shared client presents our certificate, so a partner that requires mutual TLS accepts the request.
    let response = state
        .partners()
        .http()
        .get(url)
        .bearer_auth(token)
        .timeout(std::time::Duration::from_secs(15))
        .send()
        .await
        .map_err(|e| gateway("audit request", e))?;
    if !response.status().is_success() {
        return Err(gateway(
            "audit request",
            format!("HTTP {}", response.status()),
        ));
    }
    let vkey = response
        .headers()
        .get(VKEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response
        .text()
        .await
        .map_err(|e| gateway("audit request", e))?;
    Ok((text, vkey))
}

/// Fetches the partner's checkpoint, checks it against the last one accepted, and records the outcome. A partner
/// that does not advertise the audit checkpoint is not asked: 404 saying so.
pub async fn check_partner(
    state: &PartnerLogs,
    partner_id: &str,
) -> Result<WitnessOutcome, ApiError> {
    // The live directory, not the file: an operator may have pointed the partner at a new URL since start.
    let partner = state
        .partners()
        .get(partner_id)
        .ok_or_else(|| ApiError::NotFound(format!("partner {partner_id}")))?;
    let advertised = extensions::advertised(state.partners(), &partner.id).await?;
    let checkpoint_path = advertised
        .path(Extension::AuditCheckpoint)
        .ok_or_else(|| extensions::not_advertised(&partner.id, Extension::AuditCheckpoint))?;
    let base = state
        .partners()
        .client()
        .discover(&partner)
        .await
        .map_err(|e| gateway("discovery", e))?;
    let (note, served_vkey) =
        get_text(state, &partner.id, &format!("{base}{checkpoint_path}")).await?;
    let stored = state.store().audit_partner_checkpoint(&partner.id).await?;
    let vkey = match (&stored, served_vkey) {
        (Some((pinned, _)), _) => pinned.clone(),
        (None, Some(v)) => v,
        (None, None) => return Err(gateway("audit checkpoint", "no log key in the response")),
    };
    let key = NoteVerifier::parse(&vkey).map_err(|e| gateway("audit checkpoint", e))?;
    let origin = key.name().to_owned();

    let outcome = match SignedCheckpoint::open(&note, &origin, std::slice::from_ref(&key)) {
        Err(e) => WitnessOutcome::SplitView {
            reason: format!("checkpoint does not verify with the pinned key {vkey}: {e}"),
        },
        Ok(new) => match &stored {
            None => WitnessOutcome::First {
                size: new.checkpoint.size,
            },
            Some((_, old_note)) => {
                let old = SignedCheckpoint::open(old_note, &origin, std::slice::from_ref(&key))
                    .map_err(|e| ApiError::Internal(format!("stored partner checkpoint: {e}")))?;
                let proof = if new.checkpoint.size > old.checkpoint.size && old.checkpoint.size > 0
                {
                    // Without a proof, growth would look like a split view: refuse to judge instead.
                    let path = advertised
                        .path(Extension::AuditConsistency)
                        .ok_or_else(|| {
                            extensions::not_advertised(&partner.id, Extension::AuditConsistency)
                        })?;
                    let url = format!(
                        "{base}{path}?old={}&new={}",
                        old.checkpoint.size, new.checkpoint.size
                    );
                    let (text, _) = get_text(state, &partner.id, &url).await?;
                    text.lines()
                        .map(|l| STANDARD.decode(l).ok().and_then(|b| Hash::try_from(b).ok()))
                        .collect::<Option<Vec<Hash>>>()
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                assess(&old, &new, &proof)
            }
        },
    };

    let mut event = match &outcome {
        WitnessOutcome::SplitView { reason } => {
            tracing::error!(partner = %partner.id, %reason, "SPLIT VIEW: partner audit log is inconsistent");
            AuditEvent::new(
                EventKind::SplitViewAlarm,
                json!({"reason": reason, "checkpoint": note, "vkey": vkey}),
            )
        }
        other => {
            if let Ok(cp) = SignedCheckpoint::open(&note, &origin, std::slice::from_ref(&key)) {
                state
                    .store()
                    .audit_put_partner_checkpoint(&partner.id, &vkey, cp.checkpoint.size, &note)
                    .await?;
            }
            AuditEvent::new(
                EventKind::PartnerCheckpoint,
                json!({"outcome": other, "checkpoint": note, "vkey": vkey}),
            )
        }
    };
    event.partner = Some(partner.id.clone());
    state.audit().append(event).await?;
    Ok(outcome)
}

/// Checks every configured partner's checkpoint every `interval` (`audit_witness_interval_seconds`), so a split
/// view is detected (and logged as an alarm) without an operator asking. The first round runs one interval after
/// start, when partners are likely up. Partners that do not advertise the audit checkpoint are passed over: their
/// `/.well-known/twinport` answer is remembered for [`extensions::REFRESH`], so they see no request per round.
pub fn spawn_periodic(
    state: PartnerLogs,
    interval: std::time::Duration,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopped.changed() => return,
            }
            let partners: Vec<String> = state
                .partners()
                .directory()
                .all()
                .into_iter()
                .map(|p| p.id)
                .collect();
            for partner in partners {
                // A partner without a URL cannot be asked; one that is down is asked again next round.
                if state.partners().get(&partner).and_then(|p| p.url).is_none() {
                    continue;
                }
                match extensions::advertised(state.partners(), &partner).await {
                    Ok(a) if a.offers(Extension::AuditCheckpoint) => {}
                    // Not a Twinport (or one without an audit log to show): nothing to witness.
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::warn!(%partner, error = %e, "periodic audit checkpoint check skipped");
                        continue;
                    }
                }
                match check_partner(&state, &partner).await {
                    // Outcomes, split views included, are logged and alarmed inside the check.
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(%partner, error = %e, "periodic audit checkpoint check failed")
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use twinport_contracts::transparency::checkpoint::Checkpoint;
    use twinport_contracts::transparency::merkle::{leaf_hash, root};
    use twinport_contracts::transparency::note::NoteSigner;
    use twinport_contracts::transparency::tree::MerkleTree;

    use super::*;

    fn signed(key: &NoteSigner, leaves: &[Hash]) -> SignedCheckpoint {
        let cp = Checkpoint {
            origin: key.name().into(),
            size: leaves.len() as u64,
            root: root(leaves),
        };
        SignedCheckpoint::sign(cp, key).expect("signed")
    }

    #[test]
    fn growth_is_accepted_and_a_forked_history_is_a_split_view() {
        let key = NoteSigner::generate("city-b.example/audit").expect("key");
        let honest: Vec<Hash> = (0u8..12).map(|i| leaf_hash(&[i])).collect();
        let mut tree = MerkleTree::new();
        honest.iter().for_each(|h| tree.push(*h));
        let old = signed(&key, &honest[..5]);
        let new = signed(&key, &honest);
        let proof = tree.consistency_proof(5, 12).expect("proof");
        assert_eq!(
            assess(&old, &new, &proof),
            WitnessOutcome::Advanced { from: 5, to: 12 }
        );
        assert_eq!(
            assess(&new, &new, &[]),
            WitnessOutcome::Unchanged { size: 12 }
        );

        // The partner rewrote entry 2 and shows the rewritten log: no proof can link it to what we saw.
        let mut forked = honest.clone();
        forked[2] = leaf_hash(b"rewritten");
        let fork = signed(&key, &forked);
        assert!(matches!(
            assess(&old, &fork, &proof),
            WitnessOutcome::SplitView { .. }
        ));
        assert!(matches!(
            assess(&new, &old, &[]),
            WitnessOutcome::SplitView { .. }
        ));
        assert!(matches!(
            assess(&new, &fork, &[]),
            WitnessOutcome::SplitView { .. }
        ));
    }
}
