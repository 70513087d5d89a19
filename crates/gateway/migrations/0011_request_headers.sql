-- Request and response headers, kept with the bodies when [monitor] capture_bodies
-- is on (credentials redacted).
ALTER TABLE request_log ADD COLUMN request_headers TEXT;
ALTER TABLE request_log ADD COLUMN response_headers TEXT;
