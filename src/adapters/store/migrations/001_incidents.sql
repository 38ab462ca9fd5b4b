-- Incidents, their human-readable numbers, runbook steps and timelines.
-- Child tables are keyed by incident_key without a foreign key: activities write them independently
-- and idempotently, in whatever order their retries land.

CREATE TABLE incidents (
  incident_key text PRIMARY KEY,            -- workflow id + '@' + opened_at (a workflow id is reused after close)
  workflow_id text NOT NULL,
  number text UNIQUE,                       -- INC-YYYYMMDD-NNN
  incident_type text NOT NULL,
  service text NOT NULL,
  severity text NOT NULL,
  title text NOT NULL,
  dedup_key text NOT NULL,
  fingerprints jsonb NOT NULL DEFAULT '[]'::jsonb,
  labels jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL,
  opened_at timestamptz NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  mitigated_at timestamptz,
  resolved_at timestamptz,
  tta_seconds double precision
    GENERATED ALWAYS AS (EXTRACT(EPOCH FROM (acknowledged_at - opened_at))::double precision) STORED,
  ttr_seconds double precision
    GENERATED ALWAYS AS (EXTRACT(EPOCH FROM (resolved_at - opened_at))::double precision) STORED,
  highest_escalation_level integer NOT NULL DEFAULT 0,
  outcome text CHECK (outcome IN ('auto_resolved', 'resolved_by_runbook', 'resolved_manually', 'cancelled')),
  resolved_by text,
  runbook text,
  root_cause text,
  root_cause_confirmed boolean NOT NULL DEFAULT false,
  fix text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_type_service_idx ON incidents (incident_type, service, opened_at DESC);
CREATE INDEX incidents_status_idx ON incidents (status, opened_at DESC);
CREATE INDEX incidents_workflow_idx ON incidents (workflow_id, opened_at DESC);
CREATE INDEX incidents_opened_idx ON incidents (opened_at);
CREATE INDEX incidents_root_cause_idx ON incidents (root_cause) WHERE root_cause IS NOT NULL;

-- One row per numbered incident; seq runs from 1 per UTC day.
CREATE TABLE incident_numbers (
  incident_key text PRIMARY KEY,
  day date NOT NULL,
  seq integer NOT NULL CHECK (seq > 0),
  number text NOT NULL UNIQUE,
  allocated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (day, seq)
);

CREATE TABLE incident_steps (
  incident_key text NOT NULL,
  step_id text NOT NULL,
  attempt_group integer NOT NULL DEFAULT 0,
  runbook text NOT NULL,
  name text,
  kind text,
  action text,
  attempts integer NOT NULL DEFAULT 1,
  result text NOT NULL,
  error text,
  actor text NOT NULL DEFAULT 'automation',
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_key, step_id, attempt_group)
);

CREATE TABLE incident_events (
  incident_key text NOT NULL,
  seq integer NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  text text NOT NULL,
  actor text,
  data jsonb,
  PRIMARY KEY (incident_key, seq)
);
