-- When each resource was first stored, published as its issued date (dct:issued, Records `created`). Resources
-- stored before this column existed were created no later than their last change.
ALTER TABLE resources ADD COLUMN created_at TEXT;
UPDATE resources SET created_at = updated_at;
