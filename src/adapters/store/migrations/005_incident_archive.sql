-- Timeline entries and runbook runs moved out of a running incident's workflow state to keep it within its
-- size budget. Keyed by archive position: a retried archive call writes the same rows again, never new ones.

CREATE TABLE incident_archive (
  incident_key text NOT NULL,               -- workflow id + '@' + opened_at, as in incidents
  kind text NOT NULL CHECK (kind IN ('timeline', 'runbook_history')),
  position integer NOT NULL CHECK (position > 0),
  entry jsonb NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_key, kind, position)
);
