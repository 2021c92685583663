-- What a city's legal team has recorded about the duties of an agreement (an attribution given or not, a deletion
-- done or overdue): every record kept, the latest per duty in force. Only a duty recorded as violated blocks the
-- permission it belongs to, so this is how a duty is enforced on every later transfer and access.
CREATE TABLE duty_states (
    seq             BIGSERIAL PRIMARY KEY,
    agreement_id    TEXT NOT NULL,
    duty            TEXT NOT NULL,
    state           TEXT NOT NULL,
    note            TEXT,
    recorded_by     TEXT NOT NULL,
    recorded_at     TEXT NOT NULL
);
CREATE INDEX duty_states_agreement ON duty_states (agreement_id, seq);
