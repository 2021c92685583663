-- Contract negotiations, agreements, transfer processes, their histories, and the durable outbox of DSP messages
-- to partners. Finalized and terminated processes are kept so late messages get 400, not 404.
CREATE TABLE negotiations (
    id              TEXT PRIMARY KEY NOT NULL,
    role            TEXT NOT NULL,
    provider_pid    TEXT,
    consumer_pid    TEXT,
    partner         TEXT NOT NULL,
    state           TEXT NOT NULL,
    dataset         TEXT NOT NULL,
    offer           TEXT NOT NULL,
    offer_by        TEXT NOT NULL,
    peer_address    TEXT,
    purpose         TEXT,
    agreement_id    TEXT,
    waiting_for     TEXT,
    version         BIGINT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX negotiations_provider_pid ON negotiations (provider_pid);
CREATE INDEX negotiations_consumer_pid ON negotiations (consumer_pid);

CREATE TABLE process_history (
    seq             BIGSERIAL PRIMARY KEY,
    process_id      TEXT NOT NULL,
    at              TEXT NOT NULL,
    from_state      TEXT,
    to_state        TEXT NOT NULL,
    event           TEXT NOT NULL,
    detail          TEXT
);
CREATE INDEX process_history_process ON process_history (process_id, seq);

CREATE TABLE agreements (
    id                  TEXT PRIMARY KEY NOT NULL,
    negotiation_id      TEXT NOT NULL,
    provider            TEXT NOT NULL,
    consumer            TEXT NOT NULL,
    target              TEXT NOT NULL,
    body                TEXT NOT NULL,
    policy_id           TEXT,
    policy_version      BIGINT,
    provider_signature  TEXT,
    consumer_signature  TEXT,
    provider_jwks       TEXT,
    consumer_jwks       TEXT,
    created_at          TEXT NOT NULL
);

CREATE TABLE transfers (
    id              TEXT PRIMARY KEY NOT NULL,
    role            TEXT NOT NULL,
    provider_pid    TEXT,
    consumer_pid    TEXT,
    partner         TEXT NOT NULL,
    agreement_id    TEXT NOT NULL,
    state           TEXT NOT NULL,
    format          TEXT NOT NULL,
    peer_address    TEXT,
    data_address    TEXT,
    token_hash      TEXT,
    token_expires   BIGINT,
    version         BIGINT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX transfers_provider_pid ON transfers (provider_pid);
CREATE INDEX transfers_consumer_pid ON transfers (consumer_pid);
CREATE INDEX transfers_token_hash ON transfers (token_hash);

CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    process_id      TEXT NOT NULL,
    partner         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    signature       TEXT,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX outbox_pending ON outbox (status, next_attempt_ms);
CREATE INDEX outbox_process ON outbox (process_id, id);
