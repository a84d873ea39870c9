-- +goose Up
-- attune's own tables. River's tables live beside them in the search path's first schema
-- (public by default) and are migrated by rivermigrate, not here.
CREATE SCHEMA IF NOT EXISTS attune; -- also created by db.Migrate before goose runs

CREATE TABLE attune.pack (
    id          bigserial PRIMARY KEY,
    ref         text NOT NULL UNIQUE CHECK (ref ~ '^[a-z][a-z0-9_-]*$'),
    label       text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    version     text NOT NULL,
    config      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The runtimes a worker can serve; an action names one of them and is run by exactly that one.
CREATE TABLE attune.runtime (
    name        text PRIMARY KEY,
    description text NOT NULL DEFAULT '',
    in_process  boolean NOT NULL DEFAULT false
);
INSERT INTO attune.runtime (name, description, in_process) VALUES
    ('shell',  'POSIX shell script: /bin/sh <entry_point>', false),
    ('python', 'Python script: python3 -u <entry_point>', false),
    ('noop',   'In-process: succeeds and returns its parameters', true);

CREATE TABLE attune.trigger (
    id             bigserial PRIMARY KEY,
    ref            text NOT NULL UNIQUE CHECK (ref ~ '^[^.]+\.[^.]+$'),
    pack_id        bigint NOT NULL REFERENCES attune.pack (id) ON DELETE CASCADE,
    pack_ref       text NOT NULL,
    label          text NOT NULL DEFAULT '',
    description    text NOT NULL DEFAULT '',
    param_schema   jsonb NOT NULL DEFAULT '{}',
    payload_schema jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attune.action (
    id               bigserial PRIMARY KEY,
    ref              text NOT NULL UNIQUE CHECK (ref ~ '^[^.]+\.[^.]+$'),
    pack_id          bigint NOT NULL REFERENCES attune.pack (id) ON DELETE CASCADE,
    pack_ref         text NOT NULL,
    label            text NOT NULL DEFAULT '',
    description      text NOT NULL DEFAULT '',
    runtime          text NOT NULL REFERENCES attune.runtime (name),
    entry_point      text NOT NULL DEFAULT '',
    entry_content    bytea NOT NULL DEFAULT '',
    param_schema     jsonb NOT NULL DEFAULT '{}',
    parameter_format text NOT NULL DEFAULT 'json' CHECK (parameter_format IN ('json', 'dotenv')),
    output_format    text NOT NULL DEFAULT 'text' CHECK (output_format IN ('text', 'json')),
    timeout_seconds  integer NOT NULL DEFAULT 300 CHECK (timeout_seconds > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attune.rule (
    id             bigserial PRIMARY KEY,
    ref            text NOT NULL UNIQUE CHECK (ref ~ '^[^.]+\.[^.]+$'),
    pack_id        bigint NOT NULL REFERENCES attune.pack (id) ON DELETE CASCADE,
    pack_ref       text NOT NULL,
    label          text NOT NULL DEFAULT '',
    description    text NOT NULL DEFAULT '',
    trigger_ref    text NOT NULL,
    action_ref     text NOT NULL,
    enabled        boolean NOT NULL DEFAULT true,
    criteria       jsonb,
    action_params  jsonb NOT NULL DEFAULT '{}',
    trigger_params jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rule_trigger_ref_idx ON attune.rule (trigger_ref) WHERE enabled;

-- One durable timer per timer rule. next_fire_at is the time of the one pending
-- attune.timer.fire job (fire_job_id); firing advances it with a compare-and-set.
CREATE TABLE attune.timer (
    id            bigserial PRIMARY KEY,
    rule_id       bigint NOT NULL UNIQUE REFERENCES attune.rule (id) ON DELETE CASCADE,
    trigger_ref   text NOT NULL,
    params        jsonb NOT NULL DEFAULT '{}',
    enabled       boolean NOT NULL DEFAULT true,
    next_fire_at  timestamptz,
    fire_job_id   bigint,
    fire_count    bigint NOT NULL DEFAULT 0,
    last_fired_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attune.event (
    id           bigserial PRIMARY KEY,
    trigger_ref  text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}',
    rule_id      bigint REFERENCES attune.rule (id) ON DELETE SET NULL,
    rule_ref     text,
    timer_id     bigint REFERENCES attune.timer (id) ON DELETE SET NULL,
    scheduled_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- A timer fires at most once per scheduled time.
    CONSTRAINT event_timer_fire_key UNIQUE (timer_id, scheduled_at)
);
CREATE INDEX event_created_at_idx ON attune.event (created_at);

CREATE TABLE attune.enforcement (
    id          bigserial PRIMARY KEY,
    rule_id     bigint REFERENCES attune.rule (id) ON DELETE SET NULL,
    rule_ref    text NOT NULL,
    event_id    bigint NOT NULL REFERENCES attune.event (id) ON DELETE CASCADE,
    status      text NOT NULL DEFAULT 'created' CHECK (status IN ('created', 'processed', 'failed')),
    parameters  jsonb NOT NULL DEFAULT '{}',
    reason      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    -- A rule enforces an event at most once.
    CONSTRAINT enforcement_rule_event_key UNIQUE (rule_id, event_id)
);
CREATE INDEX enforcement_event_idx ON attune.enforcement (event_id);

CREATE TABLE attune.execution (
    id              bigserial PRIMARY KEY,
    action_ref      text NOT NULL,
    action_id       bigint REFERENCES attune.action (id) ON DELETE SET NULL,
    runtime         text NOT NULL,
    enforcement_id  bigint REFERENCES attune.enforcement (id) ON DELETE SET NULL,
    attempt         integer NOT NULL DEFAULT 1 CHECK (attempt > 0),
    status          text NOT NULL CHECK (status IN ('requested', 'scheduled', 'running', 'canceling',
                        'completed', 'failed', 'timeout', 'cancelled', 'abandoned')),
    parameters      jsonb NOT NULL DEFAULT '{}',
    result          jsonb,
    error           text NOT NULL DEFAULT '',
    worker          text NOT NULL DEFAULT '',
    timeout_seconds integer NOT NULL CHECK (timeout_seconds > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    scheduled_at    timestamptz,
    started_at      timestamptz,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One top-level first attempt per enforcement.
CREATE UNIQUE INDEX execution_enforcement_key ON attune.execution (enforcement_id) WHERE attempt = 1;
CREATE INDEX execution_status_idx ON attune.execution (status, id);
CREATE INDEX execution_action_idx ON attune.execution (action_ref, id);
CREATE INDEX execution_created_at_idx ON attune.execution (created_at);

-- Every status transition of every execution, with its time.
CREATE TABLE attune.execution_history (
    id           bigserial PRIMARY KEY,
    execution_id bigint NOT NULL REFERENCES attune.execution (id) ON DELETE CASCADE,
    from_status  text,
    to_status    text NOT NULL,
    worker       text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX execution_history_execution_idx ON attune.execution_history (execution_id, id);

-- Replicas that have been seen, for `attune status`.
CREATE TABLE attune.worker (
    name         text PRIMARY KEY,
    roles        text NOT NULL DEFAULT '',
    hostname     text NOT NULL DEFAULT '',
    pid          integer NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP SCHEMA attune CASCADE;
