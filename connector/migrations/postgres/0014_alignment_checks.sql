-- Alignment checks of model inputs against datasets (and of outputs against visualisation assets), with the
-- resources each one covered, so a negotiation for a model or its inputs can require a passing check of the
-- descriptions as they are now. The audit log records each check too; this is the queryable copy.
CREATE TABLE alignment_checks (
    id         TEXT PRIMARY KEY,
    checked_at BIGINT NOT NULL,
    -- The check's audit log index: the order checks were made in, finer than their second.
    audit_index BIGINT NOT NULL,
    verdict    TEXT NOT NULL,
    report     TEXT NOT NULL
);

-- One row per resource a check covered: `partner` is '' for our own catalogue; `role` is model, input, output
-- or visualisation; `digest` is the SHA-256 of the description checked; `verdict` is that resource's own.
CREATE TABLE alignment_subjects (
    check_id   TEXT NOT NULL REFERENCES alignment_checks (id) ON DELETE CASCADE,
    partner    TEXT NOT NULL,
    resource   TEXT NOT NULL,
    role       TEXT NOT NULL,
    digest     TEXT NOT NULL,
    verdict    TEXT NOT NULL,
    checked_at BIGINT NOT NULL,
    audit_index BIGINT NOT NULL
);
CREATE INDEX alignment_subjects_by_resource ON alignment_subjects (partner, resource, audit_index);
