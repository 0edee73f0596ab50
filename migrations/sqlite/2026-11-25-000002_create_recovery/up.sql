CREATE TABLE recovery_flows (
    id            TEXT    PRIMARY KEY NOT NULL,
    identity_id   TEXT    NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    flow_type     TEXT    NOT NULL CHECK (flow_type IN ('browser', 'api')),
    state         TEXT    NOT NULL CHECK (state IN ('sent_email', 'passed_challenge')),
    active_method TEXT    NOT NULL,
    request_url   TEXT    NOT NULL,
    submit_count  INTEGER NOT NULL DEFAULT 0,
    issued_at     TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL
) STRICT;

CREATE INDEX recovery_flows_identity_id_idx ON recovery_flows (identity_id);

CREATE TABLE recovery_codes (
    id          TEXT PRIMARY KEY NOT NULL,
    flow_id     TEXT NOT NULL REFERENCES recovery_flows (id) ON DELETE CASCADE,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    -- Lowercase hex of HMAC-SHA-512/256 of the code; never the code.
    code_hash   TEXT NOT NULL,
    code_type   TEXT NOT NULL CHECK (code_type IN ('admin', 'self_service')),
    issued_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT,
    -- Issued with invalidation on: the identity's only live code (see the index below).
    exclusive   INTEGER NOT NULL DEFAULT 0 CHECK (exclusive IN (0, 1))
) STRICT;

CREATE INDEX recovery_codes_flow_id_idx ON recovery_codes (flow_id);
CREATE INDEX recovery_codes_identity_id_idx ON recovery_codes (identity_id);

-- At most one live exclusive code per identity, whatever the timing of the writers.
CREATE UNIQUE INDEX recovery_codes_one_live_exclusive ON recovery_codes (identity_id)
    WHERE exclusive AND used_at IS NULL AND revoked_at IS NULL;
