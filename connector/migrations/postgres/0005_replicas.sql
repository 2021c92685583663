-- Several replicas on one database (issue 7): a replica claims the outbox message it delivers with a lease, so each
-- message is worked by exactly one replica at a time, and a replica that dies mid-delivery only holds it until the
-- lease expires. NULL means unclaimed.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
