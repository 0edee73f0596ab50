-- The audit trail. No foreign keys: an event outlives the identity and the flow it names.
-- Written in the transaction of the change it records; never holds a secret. Rows go when
-- older than audit.retention (90 days by default).
CREATE TABLE audit_events (
    id             uuid        PRIMARY KEY,
    occurred_at    timestamptz NOT NULL,
    actor          text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 64),
    action         text        NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    reason         text        CHECK (length(reason) BETWEEN 1 AND 64),
    identity_id    uuid,
    flow_id        uuid,
    client_address text        CHECK (length(client_address) BETWEEN 1 AND 64),
    request_id     text        CHECK (length(request_id) BETWEEN 1 AND 128)
);

CREATE INDEX audit_events_identity_id_idx ON audit_events (identity_id, id);
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);
