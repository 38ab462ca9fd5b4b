-- What incidents taught: runbook outcomes, diagnoses and postmortems.

CREATE TABLE runbook_runs (
  incident_key text NOT NULL,
  runbook text NOT NULL,
  incident_type text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'aborted')),
  finished_at timestamptz NOT NULL,
  PRIMARY KEY (incident_key, runbook)
);
CREATE INDEX runbook_runs_runbook_idx ON runbook_runs (runbook, finished_at DESC);

CREATE TABLE diagnoses (
  incident_key text NOT NULL,
  diagnosis_id text NOT NULL,               -- 'main', or e.g. 'task:<dag>.<task>' for a later re-diagnosis
  at timestamptz NOT NULL,
  hypotheses jsonb NOT NULL,
  signatures_version integer NOT NULL,
  PRIMARY KEY (incident_key, diagnosis_id)
);

CREATE TABLE postmortems (
  incident_key text PRIMARY KEY,
  markdown text NOT NULL,
  generated_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  reviewed_at timestamptz,
  reviewer text
);
CREATE INDEX postmortems_unreviewed_idx ON postmortems (generated_at) WHERE reviewed_at IS NULL;
