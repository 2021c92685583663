-- The management API lists processes and agreements in creation order, a page at a time after the last row seen,
-- and transfers by the dataset of their agreement: these indexes serve those reads.
CREATE INDEX negotiations_listed ON negotiations (created_at, id);
CREATE INDEX transfers_listed ON transfers (created_at, id);
CREATE INDEX transfers_agreement ON transfers (agreement_id);
CREATE INDEX agreements_listed ON agreements (created_at, id);
CREATE INDEX agreements_target ON agreements (target);
