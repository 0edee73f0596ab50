ALTER TABLE recovery_flows DROP COLUMN verifies_addresses;
ALTER TABLE identities DROP COLUMN verifiable_addresses, DROP COLUMN recovery_addresses;
