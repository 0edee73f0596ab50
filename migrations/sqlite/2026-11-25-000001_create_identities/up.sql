-- Ids are hyphenated UUID text; instants are RFC 3339 UTC text with milliseconds, whose text
-- order is their time order.
CREATE TABLE identities (
    id            TEXT    PRIMARY KEY NOT NULL,
    schema_id     TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('active', 'inactive')),
    traits        TEXT    NOT NULL CHECK (json_valid(traits) AND json_type(traits) = 'object'),
    -- The lower-cased traits.email people sign in with.
    identifier    TEXT,
    -- Argon2id, PHC format; never the password.
    password_hash TEXT,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

CREATE UNIQUE INDEX identities_identifier_key ON identities (identifier);
