-- GET /v1/jobs lists an org's jobs newest first (the dashboard polls it): an index in that order.
CREATE INDEX IF NOT EXISTS jobs_org_created ON jobs (org_id, created_at DESC, id DESC);
