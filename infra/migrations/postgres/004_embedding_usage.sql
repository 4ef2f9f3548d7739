-- What embedding providers spent, per org, UTC day, provider and model (README, Embeddings:
-- spending limits). Budgets are sums over it, so every process and instance shares them.
CREATE TABLE IF NOT EXISTS embedding_usage (
    org_id    text NOT NULL,
    day       text NOT NULL,  -- YYYY-MM-DD (UTC), compared as text in both stores
    provider  text NOT NULL,
    model     text NOT NULL,
    tokens    bigint NOT NULL DEFAULT 0,
    cost_usd  double precision NOT NULL DEFAULT 0,
    calls     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, day, provider, model)
);
CREATE INDEX IF NOT EXISTS embedding_usage_day ON embedding_usage (day);
