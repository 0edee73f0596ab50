ALTER TABLE sessions DROP COLUMN device_user_agent;
ALTER TABLE sessions DROP COLUMN device_ip_address;
