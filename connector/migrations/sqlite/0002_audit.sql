-- The append-only audit log (issue 5). Entries and checkpoints can only be inserted: the triggers below make the
-- database itself refuse UPDATE and DELETE, so not even a bug or an operator with SQL access rewrites history
-- without the tampering showing (dropping a trigger is itself visible, and the Merkle checkpoints expose the edit).
CREATE TABLE audit_entries (
    idx         INTEGER PRIMARY KEY NOT NULL,
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
    size        INTEGER PRIMARY KEY NOT NULL,
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
    size        INTEGER NOT NULL,
    note        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
