-- The consumer's live pull tokens, kept apart from the transfer's data address and history (which operators and
-- viewers read): the token the local endpoint presents, when the provider said it expires, whether it can be
-- renewed ('automatic', 'unavailable: <why>', or NULL while that is not known yet), and the lease a replica holds
-- while it renews, so two replicas sharing a database do not both renew and revoke each other's token.
CREATE TABLE pull_tokens (
    transfer_id     TEXT PRIMARY KEY NOT NULL,
    token           TEXT NOT NULL,
    issued_at       BIGINT NOT NULL,
    expires_at      BIGINT,
    renewal         TEXT,
    lease_until     BIGINT,
    updated_at      TEXT NOT NULL
);

-- Tokens received before this migration move out of the consumer's data addresses and history.
INSERT OR IGNORE INTO pull_tokens (transfer_id, token, issued_at, expires_at, renewal, lease_until, updated_at)
SELECT t.id, json_extract(p.value, '$.value'), CAST(strftime('%s', 'now') AS INTEGER), NULL, NULL, NULL, t.updated_at
FROM transfers t, json_each(t.data_address, '$.endpointProperties') p
WHERE t.role = 'consumer'
  AND t.data_address LIKE '%authorization%'
  AND json_valid(t.data_address)
  AND json_type(t.data_address, '$.endpointProperties') = 'array'
  AND json_extract(p.value, '$.name') = 'authorization'
  AND json_type(p.value, '$.value') = 'text';

UPDATE transfers SET data_address = json_set(data_address, '$.endpointProperties', (
    SELECT json_group_array(json(p.value)) FROM json_each(transfers.data_address, '$.endpointProperties') p
    WHERE json_extract(p.value, '$.name') IS NOT 'authorization'))
WHERE role = 'consumer'
  AND data_address LIKE '%authorization%'
  AND json_valid(data_address)
  AND json_type(data_address, '$.endpointProperties') = 'array';

UPDATE process_history SET detail = json_set(detail, '$.endpointProperties', (
    SELECT json_group_array(json(p.value)) FROM json_each(process_history.detail, '$.endpointProperties') p
    WHERE json_extract(p.value, '$.name') IS NOT 'authorization'))
WHERE detail LIKE '%authorization%'
  AND json_valid(detail)
  AND json_type(detail, '$.endpointProperties') = 'array';
