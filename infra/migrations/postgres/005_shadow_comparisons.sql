-- Shadow runs of a candidate embedding model (README, Embeddings: shadow, canary, promotion):
-- one row per sampled live query also run against the candidate's vectors.
CREATE TABLE IF NOT EXISTS shadow_comparisons (
    id                bigserial PRIMARY KEY,
    org_id            text NOT NULL,
    model             text NOT NULL,
    at                timestamptz NOT NULL DEFAULT clock_timestamp(),
    overlap           double precision NOT NULL,
    rank_correlation  double precision,
    live_ms           double precision NOT NULL,
    shadow_ms         double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS shadow_comparisons_model ON shadow_comparisons (model, id);

-- When a version stopped being served: superseded versions are kept for rollback until
-- VERSION_RETENTION_DAYS after it, then the nightly scan deletes them.
ALTER TABLE doc_versions ADD COLUMN IF NOT EXISTS superseded_at timestamptz;
