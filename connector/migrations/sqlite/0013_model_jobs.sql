-- The jobs partners started on a model served as OGC API - Processes, by the model server's own job id: which
-- transfer, agreement and process each belongs to. The data plane reaches a job only for the agreement that
-- started it, so one partner cannot read, poll or dismiss another's runs (nor list them: `GET /jobs` is refused).
CREATE TABLE model_jobs (
    backend         TEXT NOT NULL,
    job_id          TEXT NOT NULL,
    process_id      TEXT NOT NULL,
    transfer_id     TEXT NOT NULL,
    agreement_id    TEXT NOT NULL,
    partner         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (backend, job_id)
);
CREATE INDEX model_jobs_agreement ON model_jobs (agreement_id);
