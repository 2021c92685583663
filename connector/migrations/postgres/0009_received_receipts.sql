-- Receipts this connector received as a consumer, each kept as checked when it arrived, written in the transaction
-- of the audit entry that records its arrival. They were one file each under data_dir/receipts/: creating a file
-- per response was about half of the consumer's CPU per request.
CREATE TABLE received_receipts (
    seq         BIGSERIAL PRIMARY KEY,
    transfer_id TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX received_receipts_transfer ON received_receipts (transfer_id, seq);
