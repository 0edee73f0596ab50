-- identities.identifier holds whichever trait the identity's schema marks as the password
-- identifier (an email address or a name), lower-cased.

-- Kratos's addresses: what the traits the identity's schema marks hold, written with the traits
-- so that every read has them. A verifiable address carries when it was proven (or null).
ALTER TABLE identities
    ADD COLUMN recovery_addresses jsonb NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(recovery_addresses) = 'array'),
    ADD COLUMN verifiable_addresses jsonb NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(verifiable_addresses) = 'array');

-- Identities written before: the built-in schema marks the email, their identifier, as both.
UPDATE identities SET
    recovery_addresses = jsonb_build_array(jsonb_build_object('via', 'email', 'value', identifier)),
    verifiable_addresses = jsonb_build_array(
        jsonb_build_object('via', 'email', 'value', identifier, 'verified_at', NULL))
WHERE identifier IS NOT NULL AND schema_id = 'default';

-- Whether redeeming the flow's code proves the identity's recovery addresses.
ALTER TABLE recovery_flows ADD COLUMN verifies_addresses boolean NOT NULL DEFAULT false;
