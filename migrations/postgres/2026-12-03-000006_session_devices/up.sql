-- The device that opened each session (one per session). Null for sessions opened before.
ALTER TABLE sessions ADD COLUMN device_ip_address text;
ALTER TABLE sessions ADD COLUMN device_user_agent text
    CHECK (char_length(device_user_agent) <= 512);
