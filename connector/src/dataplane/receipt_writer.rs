//! Stores signed receipts in batches. Every served response yields one; written one transaction each they were,
//! after the audit log, the busiest thing on SQLite's single connection. Receipts that arrive while a batch
//! commits go into the next, as the audit writer does. A receipt request for a response still being recorded waits
//! on [`super::receipts::Pending`] until its batch is durable, so no reader sees a receipt that is not stored.

use tokio::sync::{mpsc, oneshot};

use crate::storage::{Store, StoredReceipt};

/// Largest batch: bounds one transaction's work when many responses end at once.
const MAX_BATCH: usize = 256;

type Job = (StoredReceipt, oneshot::Sender<Result<(), String>>);

/// Handle to the batching task; one per connector.
pub struct ReceiptWriter {
    tx: mpsc::Sender<Job>,
}

impl ReceiptWriter {
    /// Starts the task (it ends when the handle is dropped).
    pub fn start(store: Store) -> ReceiptWriter {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(store, rx));
        ReceiptWriter { tx }
    }

    /// Stores `receipt`; returns once it is committed.
    pub async fn put(&self, receipt: StoredReceipt) -> Result<(), String> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send((receipt, reply))
            .await
            .map_err(|_| "the receipt writer has stopped".to_string())?;
        wait.await
            .map_err(|_| "the receipt writer has stopped".to_string())?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (receipts, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match store.put_receipts(&receipts).await {
            Ok(()) => {
                for reply in replies {
                    let _ = reply.send(Ok(()));
                }
            }
            // One bad receipt must not cost the others theirs: the batch rolled back, so write each alone.
            Err(_) => {
                for (receipt, reply) in receipts.iter().zip(replies) {
                    let result = store
                        .put_receipts(std::slice::from_ref(receipt))
                        .await
                        .map_err(|e| e.to_string());
                    if let Err(e) = &result {
                        tracing::error!(error = %e, request = %receipt.request_id, "receipt not stored");
                    }
                    let _ = reply.send(result);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::test_support::stores;

    #[tokio::test]
    async fn concurrent_receipts_are_all_stored() {
        for (store, _dir) in stores().await {
            let writer = std::sync::Arc::new(ReceiptWriter::start(store.clone()));
            let puts: Vec<_> = (0..50)
                .map(|i| {
                    let writer = writer.clone();
                    tokio::spawn(async move {
                        writer
                            .put(StoredReceipt {
                                request_id: format!("r{i}"),
                                transfer_id: "t".into(),
                                partner: "p".into(),
                                body: format!("{{\"n\":{i}}}"),
                            })
                            .await
                    })
                })
                .collect();
            for p in puts {
                p.await.expect("joined").expect("stored");
            }
            for i in 0..50 {
                let r = store
                    .receipt(&format!("r{i}"))
                    .await
                    .expect("read")
                    .expect("stored");
                assert_eq!(r.body, format!("{{\"n\":{i}}}"));
            }
        }
    }

    #[tokio::test]
    async fn a_failed_batch_is_reported_to_every_waiter() {
        for (store, _dir) in stores().await {
            let writer = ReceiptWriter::start(store.clone());
            let r = StoredReceipt {
                request_id: "dup".into(),
                transfer_id: "t".into(),
                partner: "p".into(),
                body: "{}".into(),
            };
            writer.put(r.clone()).await.expect("first stored");
            // The same request id again violates the key: an error, and the stored receipt is untouched.
            assert!(writer.put(r).await.is_err());
            assert_eq!(
                store
                    .receipt("dup")
                    .await
                    .expect("read")
                    .expect("kept")
                    .body,
                "{}"
            );
        }
    }
}
