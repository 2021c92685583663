-- The data plane: how many accesses each agreement has had (reserved before a request is forwarded, so count
-- limits hold under concurrency), and the signed receipts of the responses served, kept so a partner can fetch
-- them after a restart or after its transfer ended.
CREATE TABLE data_access_counts (
    agreement_id    TEXT PRIMARY KEY NOT NULL,
    count           INTEGER NOT NULL
);

CREATE TABLE data_receipts (
    request_id      TEXT PRIMARY KEY NOT NULL,
    transfer_id     TEXT NOT NULL,
    partner         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX data_receipts_transfer ON data_receipts (transfer_id);
