-- +goose Up
-- Where an action's process finds its parameters: on stdin (the default) or in a private 0400
-- temporary file named in ATTUNE_PARAMETER_FILE, removed when the run ends.
ALTER TABLE attune.action ADD COLUMN parameter_delivery text NOT NULL DEFAULT 'stdin'
    CONSTRAINT action_parameter_delivery_check CHECK (parameter_delivery IN ('stdin', 'file'));
-- Parameters may also be written as YAML; stdout may also be parsed as YAML or JSON lines.
ALTER TABLE attune.action DROP CONSTRAINT action_parameter_format_check;
ALTER TABLE attune.action ADD CONSTRAINT action_parameter_format_check
    CHECK (parameter_format IN ('json', 'dotenv', 'yaml'));
ALTER TABLE attune.action DROP CONSTRAINT action_output_format_check;
ALTER TABLE attune.action ADD CONSTRAINT action_output_format_check
    CHECK (output_format IN ('text', 'json', 'yaml', 'jsonl'));
-- core.http_request runs in process, on net/http.
INSERT INTO attune.runtime (name, description, in_process) VALUES
    ('http', 'In-process HTTP request (net/http): returns status_code, headers, body, json, elapsed_ms', true);

-- +goose Down
DELETE FROM attune.action WHERE runtime = 'http';
DELETE FROM attune.runtime WHERE name = 'http';
UPDATE attune.action SET output_format = 'text' WHERE output_format NOT IN ('text', 'json');
UPDATE attune.action SET parameter_format = 'json' WHERE parameter_format NOT IN ('json', 'dotenv');
ALTER TABLE attune.action DROP CONSTRAINT action_output_format_check;
ALTER TABLE attune.action ADD CONSTRAINT action_output_format_check
    CHECK (output_format IN ('text', 'json'));
ALTER TABLE attune.action DROP CONSTRAINT action_parameter_format_check;
ALTER TABLE attune.action ADD CONSTRAINT action_parameter_format_check
    CHECK (parameter_format IN ('json', 'dotenv'));
ALTER TABLE attune.action DROP COLUMN parameter_delivery;
