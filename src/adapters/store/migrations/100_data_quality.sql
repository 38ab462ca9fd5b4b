-- Data-quality results (src/adapters/check-result-store.ts).
-- dq_runs: one row per check-set run, keyed by its idempotency key; `result` is the whole CheckSetResult.
-- dq_results: one row per check per run; `actual` is rows (row-count checks) or seconds (freshness).
-- Row-count change checks read their history from dq_results (newest first).

CREATE TABLE IF NOT EXISTS dq_runs (
  check_set   text        NOT NULL,
  run_key     text        NOT NULL,
  outcome     text        NOT NULL CHECK (outcome IN ('pass', 'warn', 'error', 'fail')),
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  result      jsonb       NOT NULL,
  PRIMARY KEY (check_set, run_key)
);

CREATE INDEX IF NOT EXISTS dq_runs_recent ON dq_runs (started_at DESC);

CREATE TABLE IF NOT EXISTS dq_results (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  check_set   text        NOT NULL,
  run_key     text        NOT NULL,
  check_id    text        NOT NULL,
  outcome     text        NOT NULL CHECK (outcome IN ('pass', 'warn', 'error', 'fail')),
  actual      numeric,
  measured_at timestamptz NOT NULL,
  details     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  UNIQUE (check_set, run_key, check_id),
  FOREIGN KEY (check_set, run_key) REFERENCES dq_runs (check_set, run_key) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS dq_results_history ON dq_results (check_set, check_id, measured_at DESC);
