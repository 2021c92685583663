-- The append-only audit log (issue 5). Entries and checkpoints can only be inserted: the triggers below make the
-- database itself refuse UPDATE, DELETE and TRUNCATE, so not even a bug or an operator with SQL access rewrites
-- history without the tampering showing.
CREATE TABLE audit_entries (
    idx         BIGINT PRIMARY KEY NOT NULL,
    logged_at   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    partner     TEXT,
    resource    TEXT,
    agreement   TEXT,
    transfer    TEXT,
    purpose     TEXT,
    leaf        TEXT NOT NULL,
    leaf_hash   TEXT NOT NULL
);
CREATE INDEX audit_entries_time ON audit_entries (logged_at);
CREATE INDEX audit_entries_kind ON audit_entries (kind, idx);
CREATE INDEX audit_entries_partner ON audit_entries (partner, idx);
CREATE INDEX audit_entries_resource ON audit_entries (resource, idx);
CREATE INDEX audit_entries_agreement ON audit_entries (agreement, idx);
CREATE INDEX audit_entries_transfer ON audit_entries (transfer, idx);
CREATE INDEX audit_entries_purpose ON audit_entries (purpose, idx);

CREATE TABLE audit_checkpoints (
    size        BIGINT PRIMARY KEY NOT NULL,
    root        TEXT NOT NULL,
    note        TEXT NOT NULL,
    signed_at   TEXT NOT NULL
);

-- Personal details committed to by a leaf; the only table of the log that allows DELETE (erasure requests).
CREATE TABLE audit_personal (
    commitment  TEXT PRIMARY KEY NOT NULL,
    salt        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- The latest checkpoint accepted from each partner (and the key it was signed with), replaced only after a
-- consistency proof from it to the newer one verified.
CREATE TABLE audit_partner_checkpoints (
    partner     TEXT PRIMARY KEY NOT NULL,
    vkey        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    note        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
