-- What the verified credentials of each partner known by DID (DCP) said at its last DSP request, and until when
-- (the first of them to expire). Kept so that after a restart, and on every replica sharing the database, the data
-- plane judges that partner's transfers on the same claims instead of on none until its next DSP request.
CREATE TABLE dcp_claims (
    did         TEXT PRIMARY KEY,
    claims      TEXT NOT NULL,
    valid_until BIGINT NOT NULL,
    verified_at BIGINT NOT NULL
);
