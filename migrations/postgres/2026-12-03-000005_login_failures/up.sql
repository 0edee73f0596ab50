-- Failed sign-ins in a row, per identifier and client address group, and per identifier over
-- all addresses (address ''). The identifier is a keyed hash: the table never holds it, and
-- unknown identifiers are counted like known ones. Rows go when their last failure is a day
-- old, so the table holds at most what the per-address rate limits let through in a day.
CREATE TABLE login_failures (
    identifier_key      text        NOT NULL,
    address             text        NOT NULL,
    failures            integer     NOT NULL CHECK (failures > 0),
    last_failure_at     timestamptz NOT NULL,
    previous_failure_at timestamptz,
    PRIMARY KEY (identifier_key, address)
);

CREATE INDEX login_failures_last_failure_at_idx ON login_failures (last_failure_at);
