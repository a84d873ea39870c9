-- +goose Up
-- The datastore: (scope, name) -> text value, as StackStorm's key-value pairs. A secret key's
-- value is sealed under secrets.key (AES-256-GCM) in `sealed`, and `value` is empty. A key past
-- expires_at reads as missing at once; the retention job deletes it later.
CREATE TABLE attune.kv (
    scope      text NOT NULL,
    name       text NOT NULL,
    value      text NOT NULL DEFAULT '',
    secret     boolean NOT NULL DEFAULT false,
    sealed     bytea,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, name),
    CONSTRAINT kv_scope_check CHECK (scope = 'system' OR scope LIKE 'user:_%'),
    CONSTRAINT kv_secret_sealed CHECK (secret = (sealed IS NOT NULL)),
    CONSTRAINT kv_secret_no_text CHECK (NOT secret OR value = ''),
    CONSTRAINT kv_value_size CHECK (octet_length(value) <= 1048576)
);
CREATE INDEX kv_expires_idx ON attune.kv (expires_at) WHERE expires_at IS NOT NULL;

INSERT INTO attune.runtime (name, description, in_process) VALUES
    ('kv', 'reads and writes the datastore in process (core.kv_set, core.kv_get)', true);

-- +goose Down
DELETE FROM attune.action WHERE runtime = 'kv';
DELETE FROM attune.runtime WHERE name = 'kv';
DROP TABLE attune.kv;
