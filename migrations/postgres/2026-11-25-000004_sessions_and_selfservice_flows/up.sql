ALTER TABLE recovery_flows ADD COLUMN return_to text;

CREATE TABLE sessions (
    id               uuid        PRIMARY KEY,
    identity_id      uuid        NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    -- Lowercase hex of SHA-256 of the token; never the token.
    token_hash       text        NOT NULL,
    method           text        NOT NULL CHECK (method IN ('code_recovery', 'password')),
    authenticated_at timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    revoked_at       timestamptz
);

CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_identity_id_idx ON sessions (identity_id);

CREATE TABLE settings_flows (
    id          uuid        PRIMARY KEY,
    identity_id uuid        NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    session_id  uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    flow_type   text        NOT NULL CHECK (flow_type IN ('browser', 'api')),
    state       text        NOT NULL CHECK (state IN ('show_form', 'success')),
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    return_to   text
);

CREATE INDEX settings_flows_identity_id_idx ON settings_flows (identity_id);
CREATE INDEX settings_flows_session_id_idx ON settings_flows (session_id);

CREATE TABLE login_flows (
    id         uuid        PRIMARY KEY,
    flow_type  text        NOT NULL CHECK (flow_type IN ('browser', 'api')),
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    return_to  text
);
