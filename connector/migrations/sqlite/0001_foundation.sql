-- Catalogue resources, versioned policies and the replay guard for partner tokens.
CREATE TABLE resources (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE policy_versions (
    id          TEXT NOT NULL,
    version     INTEGER NOT NULL,
    source      TEXT NOT NULL,
    body        TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE seen_tokens (
    jti         TEXT PRIMARY KEY NOT NULL,
    issuer      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX seen_tokens_expiry ON seen_tokens (expires_at);
