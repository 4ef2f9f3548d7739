-- The query-vector cache's second level (README, Embeddings: the shared query cache): vectors
-- keyed by model, dimension, role and the SHA-256 of the text (never the text), shared by every
-- process and instance. Not tenant data: a query's vector depends on its text alone.
CREATE TABLE IF NOT EXISTS query_vector_cache (
    id          TEXT PRIMARY KEY,
    entry       BLOB NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS query_vector_cache_expiry ON query_vector_cache (expires_at);
