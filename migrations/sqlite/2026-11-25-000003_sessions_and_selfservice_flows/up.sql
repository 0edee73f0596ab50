ALTER TABLE recovery_flows ADD COLUMN return_to TEXT;

CREATE TABLE sessions (
    id               TEXT PRIMARY KEY NOT NULL,
    identity_id      TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    -- Lowercase hex of SHA-256 of the token; never the token.
    token_hash       TEXT NOT NULL,
    method           TEXT NOT NULL CHECK (method IN ('code_recovery', 'password')),
    authenticated_at TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    revoked_at       TEXT
) STRICT;

CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_identity_id_idx ON sessions (identity_id);

CREATE TABLE settings_flows (
    id          TEXT PRIMARY KEY NOT NULL,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    flow_type   TEXT NOT NULL CHECK (flow_type IN ('browser', 'api')),
    state       TEXT NOT NULL CHECK (state IN ('show_form', 'success')),
    issued_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    return_to   TEXT
) STRICT;

CREATE INDEX settings_flows_identity_id_idx ON settings_flows (identity_id);
CREATE INDEX settings_flows_session_id_idx ON settings_flows (session_id);

CREATE TABLE login_flows (
    id         TEXT PRIMARY KEY NOT NULL,
    flow_type  TEXT NOT NULL CHECK (flow_type IN ('browser', 'api')),
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    return_to  TEXT
) STRICT;
