-- Alerts per incident (for the tuning report) and deployment markers (for diagnosis).

CREATE TABLE alerts (
  incident_key text NOT NULL,
  fingerprint text NOT NULL,
  name text NOT NULL,
  source text,
  severity text,
  labels jsonb NOT NULL DEFAULT '{}'::jsonb,
  first_fired_at timestamptz NOT NULL,
  last_fired_at timestamptz,
  resolved_at timestamptz,
  refires integer NOT NULL DEFAULT 0,
  action_taken boolean NOT NULL DEFAULT false,
  PRIMARY KEY (incident_key, fingerprint)
);
CREATE INDEX alerts_first_fired_idx ON alerts (first_fired_at);
CREATE INDEX alerts_fingerprint_idx ON alerts (fingerprint);

CREATE TABLE deployments (
  service text NOT NULL,
  version text NOT NULL,
  deployed_at timestamptz NOT NULL,
  description text,
  source text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service, version, deployed_at)
);
CREATE INDEX deployments_service_time_idx ON deployments (service, deployed_at DESC);
