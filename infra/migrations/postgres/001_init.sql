-- The Postgres + pgvector store (DESIGN.md section 7). Every table carries org_id and every
-- query filters by it. Times come from the server clock (clock_timestamp()), truncated to
-- milliseconds so both stores page with the same cursors.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE documents (
    id          text PRIMARY KEY,
    org_id      text NOT NULL,
    title       text NOT NULL,
    filename    text NOT NULL,
    mime_type   text NOT NULL,
    bytes       bigint NOT NULL CHECK (bytes >= 0),
    sha256      text NOT NULL,
    blob_uri    text NOT NULL,
    metadata    jsonb NOT NULL DEFAULT '{}',
    status      text NOT NULL CHECK (status IN ('pending', 'ready', 'failed', 'deleted')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz
);
-- The same bytes live once per org; a deleted document frees its hash for a new upload.
CREATE UNIQUE INDEX documents_live_sha256 ON documents (org_id, sha256) WHERE deleted_at IS NULL;
CREATE INDEX documents_org_created ON documents (org_id, created_at DESC, id DESC);

CREATE TABLE doc_versions (
    id              text PRIMARY KEY,
    org_id          text NOT NULL,
    document_id     text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    embed_model     text NOT NULL,
    dim             integer NOT NULL CHECK (dim > 0),
    chunk_size      integer NOT NULL,
    chunk_overlap   integer NOT NULL,
    chunker_version text NOT NULL,
    source_sha256   text NOT NULL,
    state           text NOT NULL CHECK (state IN ('indexing', 'ready', 'failed', 'superseded')),
    error           text,
    created_at      timestamptz NOT NULL,
    ready_at        timestamptz
);
-- At most one ready version per document: the flip cannot leave two.
CREATE UNIQUE INDEX doc_versions_one_ready ON doc_versions (document_id) WHERE state = 'ready';
CREATE INDEX doc_versions_org_document ON doc_versions (org_id, document_id);

CREATE TABLE doc_chunks (
    id             text PRIMARY KEY,
    org_id         text NOT NULL,
    document_id    text NOT NULL,
    version_id     text NOT NULL REFERENCES doc_versions (id) ON DELETE CASCADE,
    chunk_index    integer NOT NULL,
    content        text NOT NULL,
    content_sha256 text NOT NULL,
    token_count    integer NOT NULL,
    char_start     integer NOT NULL,
    char_end       integer NOT NULL,
    -- The 'simple' configuration over the diacritic-folded content (folded in Swift, so both
    -- stores agree on what matches): "xin nghi phep" finds "xin nghỉ phép".
    folded_tsv     tsvector NOT NULL,
    UNIQUE (version_id, chunk_index)
);
CREATE INDEX doc_chunks_org_sha256 ON doc_chunks (org_id, content_sha256);
CREATE INDEX doc_chunks_version ON doc_chunks (version_id);
CREATE INDEX doc_chunks_folded_tsv ON doc_chunks USING gin (folded_tsv);

-- Untyped `vector` so several models (dimensions) coexist; each model gets a partial
-- expression HNSW index, created when its first version is (PostgresStore.ensureVectorIndex).
CREATE TABLE chunk_embeddings (
    chunk_id    text NOT NULL REFERENCES doc_chunks (id) ON DELETE CASCADE,
    org_id      text NOT NULL,
    -- Denormalised from doc_chunks: dense search joins vectors straight to the org's few ready
    -- versions instead of probing doc_chunks once per candidate row.
    version_id  text NOT NULL,
    embed_model text NOT NULL,
    dim         integer NOT NULL,
    embedding   vector NOT NULL,
    PRIMARY KEY (chunk_id, embed_model)
);
CREATE INDEX chunk_embeddings_org_model ON chunk_embeddings (org_id, embed_model);
-- The exact pass over a filtered subset reads only the allowed versions' vectors.
CREATE INDEX chunk_embeddings_version ON chunk_embeddings (version_id);

CREATE TABLE jobs (
    id               text PRIMARY KEY,
    org_id           text NOT NULL,
    type             text NOT NULL CHECK (type IN ('ingest', 'reembed', 'delete')),
    document_id      text,
    version_id       text,
    idempotency_key  text,
    params           jsonb NOT NULL DEFAULT '{}',
    status           text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL CHECK (max_attempts > 0),
    run_after        timestamptz NOT NULL,
    lease_owner      text,
    lease_expires_at timestamptz,
    error            text,
    duration_ms      integer,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    started_at       timestamptz,
    finished_at      timestamptz
);
-- One live job per key and org; a finished job frees its key.
CREATE UNIQUE INDEX jobs_live_idempotency ON jobs (org_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL AND status IN ('queued', 'running');
CREATE INDEX jobs_runnable ON jobs (status, run_after);
