-- Outbound pages: each page, and each recipient inside it, is claimed here before anything is sent and
-- completed with its outcome afterwards, so retries, restarted workers and concurrent workers send once.

CREATE TABLE page_log (
  incident_id text NOT NULL,
  level integer NOT NULL,
  target text NOT NULL,                  -- e.g. 'role:primary'
  channel text NOT NULL,                 -- 'sms', 'phone', 'slack', 'pagerduty', 'webhook'
  attempt_window text NOT NULL,          -- which deliberate page of this level it is (a repeat round is a new one)
  recipient text NOT NULL DEFAULT '',    -- '' for the page as a whole, else e.g. 'sms:alice'
  page_key text NOT NULL,
  claimed_at timestamptz NOT NULL,       -- first claim: providers are searched from here
  claim_token text NOT NULL,             -- current holder's token (compare-and-set on takeover and completion)
  holder text NOT NULL,                  -- activity execution of the current holder
  holder_attempt integer NOT NULL,
  lease_until timestamptz NOT NULL,      -- another holder may take over after this
  maybe_sent boolean NOT NULL DEFAULT true,  -- false once a holder gave up knowing nothing went out
  claims integer NOT NULL DEFAULT 1,
  completed_at timestamptz,
  entry jsonb,                           -- the recorded outcome, once completed
  PRIMARY KEY (incident_id, level, target, channel, attempt_window, recipient)
);
CREATE INDEX page_log_claimed_at_idx ON page_log (claimed_at);
