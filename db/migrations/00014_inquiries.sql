-- +goose Up
-- Human approval (issue 11): core.ask creates an inquiry and its execution waits, in status
-- pending, for someone to answer it. No worker holds a pending execution.

-- The status CHECK gains 'pending' after 'running', keeping whatever else it allows: the
-- workflow migration (00013) lists 'pending' itself, beside 'paused', and then this changes
-- nothing.
-- +goose StatementBegin
DO $$
DECLARE def text;
BEGIN
    SELECT pg_get_constraintdef(oid) INTO def FROM pg_constraint
    WHERE conrelid = 'attune.execution'::regclass AND conname = 'execution_status_check';
    IF def NOT LIKE '%''pending''::text%' THEN
        ALTER TABLE attune.execution DROP CONSTRAINT execution_status_check;
        EXECUTE 'ALTER TABLE attune.execution ADD CONSTRAINT execution_status_check '
            || replace(def, '''running''::text', '''running''::text, ''pending''::text');
    END IF;
END
$$;
-- +goose StatementEnd

-- core.ask runs in process: it creates the inquiry and returns the worker at once.
INSERT INTO attune.runtime (name, description, in_process) VALUES
    ('inquirer', 'In-process: creates an inquiry; the execution stays pending until it is answered or expires', true);

-- One inquiry per core.ask execution, with the execution's id (so a redelivered dispatch finds
-- it there). The response is checked against schema (a JSON Schema) before it is stored.
--   status: pending until answered (responded), past expires_at (expired) or its execution is
--   cancelled (cancelled); each change is a compare-and-set from pending, made in the
--   transaction that ends the execution.
--   ttl_minutes: 0 means it never expires (expires_at NULL).
--   users: who may answer over HTTP (API key names); empty means any key.
--   responded_by: "api:<key name>" or "cli:<os user>".
CREATE TABLE attune.inquiry (
    id           bigint PRIMARY KEY REFERENCES attune.execution (id) ON DELETE CASCADE,
    schema       jsonb NOT NULL,
    ttl_minutes  integer NOT NULL CHECK (ttl_minutes >= 0),
    users        text[] NOT NULL DEFAULT '{}',
    route        text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'responded', 'expired', 'cancelled')),
    response     jsonb,
    responded_by text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    responded_at timestamptz,
    CHECK ((ttl_minutes = 0) = (expires_at IS NULL))
);
-- attune inquiry list --status pending, newest first.
CREATE INDEX inquiry_status_idx ON attune.inquiry (status, id);

-- +goose Down
DROP TABLE attune.inquiry;
UPDATE attune.execution SET status = 'cancelled', finished_at = now() WHERE status = 'pending';
DELETE FROM attune.action WHERE runtime = 'inquirer';
DELETE FROM attune.runtime WHERE name = 'inquirer';
-- +goose StatementBegin
DO $$
DECLARE def text;
BEGIN
    SELECT pg_get_constraintdef(oid) INTO def FROM pg_constraint
    WHERE conrelid = 'attune.execution'::regclass AND conname = 'execution_status_check';
    ALTER TABLE attune.execution DROP CONSTRAINT execution_status_check;
    EXECUTE 'ALTER TABLE attune.execution ADD CONSTRAINT execution_status_check '
        || replace(def, ', ''pending''::text', '');
END
$$;
-- +goose StatementEnd
