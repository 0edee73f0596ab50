-- The device that opened each session (one per session). Null for sessions opened before.
ALTER TABLE sessions ADD COLUMN device_ip_address TEXT;
ALTER TABLE sessions ADD COLUMN device_user_agent TEXT
    CHECK (length(device_user_agent) <= 512);
