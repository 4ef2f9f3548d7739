-- Per-term document counts of the keyword index, read at query time: a term in half the chunks
-- or more gets no weight from FTS5's bm25 (its IDF is clamped to ~0), yet ranking every chunk it
-- matches is most of a query's cost, so keyword search leaves such terms out (SQLiteSearch.swift).
CREATE VIRTUAL TABLE chunk_fts_vocabulary USING fts5vocab(chunk_fts, 'row');
