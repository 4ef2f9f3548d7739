-- What embedding providers spent, per org, UTC day, provider and model (README, Embeddings:
-- spending limits). Budgets are sums over it, so every process and instance shares them.
CREATE TABLE IF NOT EXISTS embedding_usage (
    org_id    TEXT NOT NULL,
    day       TEXT NOT NULL,
    provider  TEXT NOT NULL,
    model     TEXT NOT NULL,
    tokens    INTEGER NOT NULL DEFAULT 0,
    cost_usd  REAL NOT NULL DEFAULT 0,
    calls     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, day, provider, model)
);
CREATE INDEX IF NOT EXISTS embedding_usage_day ON embedding_usage (day);
