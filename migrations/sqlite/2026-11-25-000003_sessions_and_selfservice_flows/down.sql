DROP TABLE login_flows;
DROP TABLE settings_flows;
DROP TABLE sessions;
ALTER TABLE recovery_flows DROP COLUMN return_to;
