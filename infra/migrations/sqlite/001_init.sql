-- The embedded store (DESIGN.md section 7). Times are milliseconds since the Unix epoch.
-- Every table carries org_id and every query filters by it.

CREATE TABLE documents (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    title       TEXT NOT NULL,
    filename    TEXT NOT NULL,
    mime_type   TEXT NOT NULL,
    bytes       INTEGER NOT NULL CHECK (bytes >= 0),
    sha256      TEXT NOT NULL,
    blob_uri    TEXT NOT NULL,
    metadata    TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed', 'deleted')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
-- The same bytes live once per org; a deleted document frees its hash for a new upload.
CREATE UNIQUE INDEX documents_live_sha256 ON documents (org_id, sha256) WHERE deleted_at IS NULL;
CREATE INDEX documents_org_created ON documents (org_id, created_at DESC, id DESC);

CREATE TABLE doc_versions (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    document_id     TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    embed_model     TEXT NOT NULL,
    dim             INTEGER NOT NULL CHECK (dim > 0),
    chunk_size      INTEGER NOT NULL,
    chunk_overlap   INTEGER NOT NULL,
    chunker_version TEXT NOT NULL,
    source_sha256   TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('indexing', 'ready', 'failed', 'superseded')),
    error           TEXT,
    created_at      INTEGER NOT NULL,
    ready_at        INTEGER
);
-- At most one ready version per document: the flip cannot leave two.
CREATE UNIQUE INDEX doc_versions_one_ready ON doc_versions (document_id) WHERE state = 'ready';
CREATE INDEX doc_versions_org_document ON doc_versions (org_id, document_id);
CREATE INDEX doc_versions_ready_model ON doc_versions (org_id, embed_model) WHERE state = 'ready';

CREATE TABLE doc_chunks (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    document_id    TEXT NOT NULL,
    version_id     TEXT NOT NULL REFERENCES doc_versions (id) ON DELETE CASCADE,
    chunk_index    INTEGER NOT NULL,
    content        TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    token_count    INTEGER NOT NULL,
    char_start     INTEGER NOT NULL,
    char_end       INTEGER NOT NULL,
    UNIQUE (version_id, chunk_index)
);
CREATE INDEX doc_chunks_org_sha256 ON doc_chunks (org_id, content_sha256);

CREATE TABLE chunk_embeddings (
    chunk_id    TEXT NOT NULL REFERENCES doc_chunks (id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL,
    embed_model TEXT NOT NULL,
    dim         INTEGER NOT NULL,
    vector      BLOB NOT NULL,  -- little-endian float32 x dim
    PRIMARY KEY (chunk_id, embed_model)
);

-- Full text over the diacritic-folded content (folded in Swift, so both stores agree);
-- rowid = doc_chunks.rowid.
CREATE VIRTUAL TABLE chunk_fts USING fts5 (folded, tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER doc_chunks_fts_delete AFTER DELETE ON doc_chunks BEGIN
    DELETE FROM chunk_fts WHERE rowid = old.rowid;
END;

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL,
    type             TEXT NOT NULL CHECK (type IN ('ingest', 'reembed', 'delete')),
    document_id      TEXT,
    version_id       TEXT,
    idempotency_key  TEXT,
    params           TEXT NOT NULL DEFAULT '{}',
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL CHECK (max_attempts > 0),
    run_after        INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    error            TEXT,
    duration_ms      INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER
);
-- One live job per key and org; a finished job frees its key.
CREATE UNIQUE INDEX jobs_live_idempotency ON jobs (org_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL AND status IN ('queued', 'running');
CREATE INDEX jobs_runnable ON jobs (status, run_after);

-- Bumped by every change to what search can see (flip, delete), so warm processes know when
-- their cached vectors are stale without re-reading them.
CREATE TABLE store_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO store_state (key, value) VALUES ('search_generation', 0);
