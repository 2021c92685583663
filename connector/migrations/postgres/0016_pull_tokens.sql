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

-- Tokens received before this migration move out of the consumer's data addresses and history. Text that is not
-- JSON (history details are free text) is left alone.
CREATE OR REPLACE FUNCTION pg_temp.twinport_jsonb(t TEXT) RETURNS JSONB AS $$
BEGIN
    RETURN t::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION pg_temp.twinport_without_token(t TEXT) RETURNS TEXT AS $$
DECLARE
    doc JSONB := pg_temp.twinport_jsonb(t);
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'object' OR jsonb_typeof(doc -> 'endpointProperties') IS DISTINCT FROM 'array' THEN
        RETURN t;
    END IF;
    RETURN jsonb_set(doc, '{endpointProperties}', COALESCE((
        SELECT jsonb_agg(p) FROM jsonb_array_elements(doc -> 'endpointProperties') p
        WHERE p ->> 'name' IS DISTINCT FROM 'authorization'), '[]'::jsonb))::text;
END
$$ LANGUAGE plpgsql;

INSERT INTO pull_tokens (transfer_id, token, issued_at, expires_at, renewal, lease_until, updated_at)
SELECT t.id, p ->> 'value', EXTRACT(EPOCH FROM now())::BIGINT, NULL, NULL, NULL, t.updated_at
FROM transfers t,
     jsonb_array_elements(CASE
         WHEN jsonb_typeof(pg_temp.twinport_jsonb(t.data_address) -> 'endpointProperties') = 'array'
         THEN pg_temp.twinport_jsonb(t.data_address) -> 'endpointProperties'
         ELSE '[]'::jsonb END) p
WHERE t.role = 'consumer'
  AND t.data_address LIKE '%authorization%'
  AND p ->> 'name' = 'authorization'
  AND jsonb_typeof(p -> 'value') = 'string'
ON CONFLICT (transfer_id) DO NOTHING;

UPDATE transfers SET data_address = pg_temp.twinport_without_token(data_address)
WHERE role = 'consumer' AND data_address LIKE '%authorization%';

UPDATE process_history SET detail = pg_temp.twinport_without_token(detail)
WHERE detail LIKE '%authorization%';
