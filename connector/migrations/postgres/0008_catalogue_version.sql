-- One number that moves on with every committed change to resources or policies, in the same transaction, so a
-- connector (or each of several replicas) can keep what it decided about the catalogue for as long as the number
-- shows nothing changed, and read one row to know.
CREATE TABLE catalogue_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 0);
