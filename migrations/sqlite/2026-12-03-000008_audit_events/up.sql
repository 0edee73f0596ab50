-- The audit trail. No foreign keys: an event outlives the identity and the flow it names.
-- Written in the transaction of the change it records; never holds a secret. Rows go when
-- older than audit.retention (90 days by default).
CREATE TABLE audit_events (
    id             TEXT PRIMARY KEY NOT NULL,
    occurred_at    TEXT NOT NULL,
    actor          TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 64),
    action         TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    reason         TEXT CHECK (reason IS NULL OR length(reason) BETWEEN 1 AND 64),
    identity_id    TEXT,
    flow_id        TEXT,
    client_address TEXT CHECK (client_address IS NULL OR length(client_address) BETWEEN 1 AND 64),
    request_id     TEXT CHECK (request_id IS NULL OR length(request_id) BETWEEN 1 AND 128)
) STRICT;

CREATE INDEX audit_events_identity_id_idx ON audit_events (identity_id, id);
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);
