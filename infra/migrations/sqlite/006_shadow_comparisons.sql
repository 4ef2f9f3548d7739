-- Shadow runs of a candidate embedding model (README, Embeddings: shadow, canary, promotion):
-- one row per sampled live query also run against the candidate's vectors.
CREATE TABLE IF NOT EXISTS shadow_comparisons (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id            TEXT NOT NULL,
    model             TEXT NOT NULL,
    at                INTEGER NOT NULL,
    overlap           REAL NOT NULL,
    rank_correlation  REAL,
    live_ms           REAL NOT NULL,
    shadow_ms         REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS shadow_comparisons_model ON shadow_comparisons (model, id);

-- When a version stopped being served: superseded versions are kept for rollback until
-- VERSION_RETENTION_DAYS after it, then the nightly scan deletes them.
ALTER TABLE doc_versions ADD COLUMN superseded_at INTEGER;
