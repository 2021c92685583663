-- One number that moves on with every committed change to transfers, their pending messages and duty states, in
-- the same transaction. With catalogue_version (resources) it tells every replica sharing a PostgreSQL database
-- whether the rows its data plane keeps in memory can have changed, in one read per request instead of reading
-- the transfer, the resource and the duty states each time.
CREATE TABLE data_plane_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_plane_version (id, version) VALUES (1, 0);
