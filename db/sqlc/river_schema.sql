-- The subset of River's schema that attune's queries read, for sqlc's type checking only.
-- River owns and migrates the real table (rivermigrate); this file is never applied.
CREATE TABLE river_job (
    id           bigserial PRIMARY KEY,
    state        text NOT NULL,
    attempt      smallint NOT NULL DEFAULT 0,
    max_attempts smallint NOT NULL,
    attempted_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finalized_at timestamptz,
    scheduled_at timestamptz NOT NULL DEFAULT now(),
    priority     smallint NOT NULL DEFAULT 1,
    args         jsonb NOT NULL,
    attempted_by text[],
    errors       jsonb[],
    kind         text NOT NULL,
    metadata     jsonb NOT NULL DEFAULT '{}',
    queue        text NOT NULL DEFAULT 'default',
    tags         varchar(255)[] NOT NULL DEFAULT '{}',
    unique_key   bytea,
    unique_states bit(8)
);
