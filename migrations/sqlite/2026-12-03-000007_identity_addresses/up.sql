-- identities.identifier holds whichever trait the identity's schema marks as the password
-- identifier (an email address or a name), lower-cased.

-- Kratos's addresses: what the traits the identity's schema marks hold, written with the traits
-- so that every read has them. A verifiable address carries when it was proven (or null).
ALTER TABLE identities ADD COLUMN recovery_addresses TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(recovery_addresses) AND json_type(recovery_addresses) = 'array');
ALTER TABLE identities ADD COLUMN verifiable_addresses TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(verifiable_addresses) AND json_type(verifiable_addresses) = 'array');

-- Identities written before: the built-in schema marks the email, their identifier, as both.
UPDATE identities SET
    recovery_addresses = json_array(json_object('via', 'email', 'value', identifier)),
    verifiable_addresses = json_array(
        json_object('via', 'email', 'value', identifier, 'verified_at', NULL))
WHERE identifier IS NOT NULL AND schema_id = 'default';

-- Whether redeeming the flow's code proves the identity's recovery addresses.
ALTER TABLE recovery_flows ADD COLUMN verifies_addresses INTEGER NOT NULL DEFAULT 0
    CHECK (verifies_addresses IN (0, 1));
