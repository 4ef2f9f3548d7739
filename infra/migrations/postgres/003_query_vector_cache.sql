-- The query-vector cache's second level (README, Embeddings: the shared query cache): vectors
-- keyed by model, dimension, role and the SHA-256 of the text (never the text), shared by every
-- process and instance. UNLOGGED: a cache needs no WAL, and a crash emptying it costs misses.
CREATE UNLOGGED TABLE IF NOT EXISTS query_vector_cache (
    id          text PRIMARY KEY,
    entry       bytea NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS query_vector_cache_expiry ON query_vector_cache (expires_at);
