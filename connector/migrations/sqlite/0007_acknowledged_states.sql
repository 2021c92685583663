-- A process reaches a state when the partner acknowledges the message that leads there (DSP 2025-1): a queued
-- message that moves its process names the state it leads to, applied when the partner answers 2xx.
ALTER TABLE outbox ADD COLUMN transition_to TEXT;

-- Follow-up messages already handled, by digest of their canonical body, so a partner's retry after a lost
-- acknowledgement is answered 200 without a second transition.
CREATE TABLE dsp_received (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    process_id      TEXT NOT NULL,
    digest          TEXT NOT NULL,
    has_id          INTEGER NOT NULL,
    received_at     TEXT NOT NULL
);
CREATE INDEX dsp_received_process ON dsp_received (process_id, digest);
