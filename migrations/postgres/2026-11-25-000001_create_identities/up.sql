CREATE TABLE identities (
    id            uuid        PRIMARY KEY,
    schema_id     text        NOT NULL,
    state         text        NOT NULL CHECK (state IN ('active', 'inactive')),
    traits        jsonb       NOT NULL CHECK (jsonb_typeof(traits) = 'object'),
    -- The lower-cased traits.email people sign in with.
    identifier    text,
    -- Argon2id, PHC format; never the password.
    password_hash text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE UNIQUE INDEX identities_identifier_key ON identities (identifier);
