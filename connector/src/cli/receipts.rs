//! `twinport contracts verify-receipt FILE --jwks KEYS`: checks a provider's access receipt offline — the bare
//! receipt document (`GET .../receipts/{requestId}`), or a receipt as the consumer stores and lists it, which also
//! records the bytes and digest that arrived. With `--body` the digest is taken from the body file itself.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::Value;
use sha2::{Digest, Sha256};
use twinport_contracts::identity::Jwks;
use twinport_contracts::receipt::SignedReceipt;

/// Verifies the receipt at `file`; an `Err` (non-zero exit) says what failed.
pub async fn verify_receipt(file: &Path, jwks: &str, body: Option<PathBuf>) -> anyhow::Result<()> {
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let doc: Value =
        serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    // A stored receipt wraps the document and records what arrived; a bare one is the document itself.
    let (receipt_doc, recorded) = match doc.get("signature") {
        Some(_) => (doc.clone(), None),
        None => {
            let inner = doc
                .get("receipt")
                .filter(|r| !r.is_null())
                .cloned()
                .with_context(|| format!("{} holds no receipt", file.display()))?;
            let recorded = match (
                doc.get("bytes").and_then(Value::as_u64),
                doc.get("sha256").and_then(Value::as_str),
            ) {
                (Some(b), Some(s)) => Some((b, s.to_string())),
                _ => None,
            };
            (inner, recorded)
        }
    };
    let bytes = serde_json::to_vec(&receipt_doc)?;
    let receipt = SignedReceipt::from_json(&bytes)
        .with_context(|| format!("{} is not an access receipt", file.display()))?;
    let keys = load_jwks(jwks).await?;
    let r = &receipt.receipt;
    println!("receipt {}", r.request_id);
    println!("  provider  {}", r.provider);
    println!("  consumer  {}", r.consumer);
    println!("  agreement {}  transfer {}", r.agreement_id, r.transfer_id);
    println!(
        "  {} {} -> {}, {} bytes, sha256 {}{}",
        r.method,
        r.path,
        r.status,
        r.bytes,
        r.sha256,
        if r.complete { "" } else { " (cut short)" }
    );
    let body_digest = match body {
        Some(path) => Some(digest_file(&path)?),
        None => recorded,
    };
    let verified = match &body_digest {
        Some((n, sha)) => receipt.verify_body(&keys, *n, sha),
        None => receipt.verify(&keys),
    }
    .map_err(|e| anyhow::anyhow!("receipt {} does not verify: {e}", r.request_id))?;
    println!("  signature OK ({} key {})", verified.alg, verified.kid);
    match body_digest {
        Some((n, _)) => println!("  the body received ({n} bytes) is the one the provider signed for"),
        None => println!("  (no body given: only the signature was checked; pass --body FILE to check the digest)"),
    }
    Ok(())
}

/// A JWKS from a file or an http(s) URL.
async fn load_jwks(source: &str) -> anyhow::Result<Jwks> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        let response = reqwest::get(source)
            .await
            .with_context(|| format!("fetching {source}"))?;
        if !response.status().is_success() {
            bail!("{source} answered HTTP {}", response.status());
        }
        response.text().await?
    } else {
        std::fs::read_to_string(source).with_context(|| format!("reading {source}"))?
    };
    Jwks::from_json_str(&text).with_context(|| format!("{source} is not a JWKS"))
}

/// Size and SHA-256 of a file, read in blocks so large bodies need no memory.
fn digest_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex::encode(hasher.finalize())))
}
