-- Partners added through the management API (the config file's [[partners]] are not stored: the file is their
-- source). `body` is the partner as the API received it, validated again at every start, so a stored entry
-- that today's checks refuse is reported and skipped instead of trusted.
CREATE TABLE partners (
    id         TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
