DROP TABLE recovery_codes;
DROP TABLE recovery_flows;
