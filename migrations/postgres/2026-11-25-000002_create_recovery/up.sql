CREATE TABLE recovery_flows (
    id            uuid        PRIMARY KEY,
    identity_id   uuid        NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    flow_type     text        NOT NULL CHECK (flow_type IN ('browser', 'api')),
    state         text        NOT NULL CHECK (state IN ('sent_email', 'passed_challenge')),
    active_method text        NOT NULL,
    request_url   text        NOT NULL,
    submit_count  integer     NOT NULL DEFAULT 0,
    issued_at     timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX recovery_flows_identity_id_idx ON recovery_flows (identity_id);

CREATE TABLE recovery_codes (
    id          uuid        PRIMARY KEY,
    flow_id     uuid        NOT NULL REFERENCES recovery_flows (id) ON DELETE CASCADE,
    identity_id uuid        NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    -- Lowercase hex of HMAC-SHA-512/256 of the code; never the code.
    code_hash   text        NOT NULL,
    code_type   text        NOT NULL CHECK (code_type IN ('admin', 'self_service')),
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX recovery_codes_flow_id_idx ON recovery_codes (flow_id);
CREATE INDEX recovery_codes_identity_id_idx ON recovery_codes (identity_id);
