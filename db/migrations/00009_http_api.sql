-- +goose Up
-- The HTTP surface: API keys, webhook verification settings, webhook deliveries (dedupe), and
-- attune.emit(), which raises an event from SQL in the caller's transaction.

-- An API key is stored as the SHA-256 of the key; the key itself is shown once, at creation.
-- A revoked key keeps its row (for the record) and frees its name.
CREATE TABLE attune.api_key (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    hash         bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE UNIQUE INDEX api_key_name_key ON attune.api_key (name) WHERE revoked_at IS NULL;

-- How POST /api/v1/webhooks/<name> is verified. A name with rules but no row here uses apikey.
CREATE TABLE attune.webhook (
    name       text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'),
    verify     text NOT NULL DEFAULT 'apikey'
                   CHECK (verify IN ('apikey', 'github', 'stripe', 'standard', 'hmac-sha256', 'none')),
    secret     bytea,                        -- sealed with secrets.key (AES-256-GCM)
    header     text NOT NULL DEFAULT '',     -- hmac-sha256: the header carrying the signature
    encoding   text NOT NULL DEFAULT 'hex' CHECK (encoding IN ('hex', 'base64')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One event per (webhook, delivery id): a redelivery answers with the first event.
CREATE TABLE attune.webhook_delivery (
    webhook     text NOT NULL,
    delivery_id text NOT NULL,
    event_id    bigint NOT NULL REFERENCES attune.event (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (webhook, delivery_id)
);
CREATE INDEX webhook_delivery_event_idx ON attune.webhook_delivery (event_id);

-- attune.emit records an event on a trigger and its attune.event.process River job, in the
-- caller's transaction, and returns the event id: a rollback leaves no event. The job row is
-- what River's InsertTx writes for jobs.EventProcessArgs (queue attune_events, unique by args
-- in River's default unique states); TestEmitSQLMatchesRiverInsert keeps the two equal.
-- +goose StatementBegin
CREATE FUNCTION attune.emit(trigger_ref text, payload jsonb DEFAULT '{}') RETURNS bigint
LANGUAGE plpgsql
-- Runs as attune's own role, so an application role needs only EXECUTE (and USAGE on the
-- schema), not rights on attune's tables or River's; every name below is schema-qualified.
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    event_id bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM attune.trigger t WHERE t.ref = emit.trigger_ref) THEN
        RAISE EXCEPTION 'attune.emit: trigger % is not registered', emit.trigger_ref
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'attune pack register DIR registers the pack that defines it';
    END IF;
    IF emit.trigger_ref IN ('core.intervaltimer', 'core.crontimer', 'core.datetimetimer') THEN
        RAISE EXCEPTION 'attune.emit: % is a timer trigger; emit on a trigger your pack defines', emit.trigger_ref
            USING ERRCODE = 'check_violation';
    END IF;
    IF emit.payload IS NULL OR jsonb_typeof(emit.payload) <> 'object' THEN
        RAISE EXCEPTION 'attune.emit: payload must be a JSON object, got %', coalesce(jsonb_typeof(emit.payload), 'NULL')
            USING ERRCODE = 'check_violation';
    END IF;
    -- The limits of every other entry point (attune.MaxPayloadBytes, attune.MaxNestingDepth).
    IF pg_catalog.octet_length(emit.payload::text) > 1048576 THEN
        RAISE EXCEPTION 'attune.emit: payload is larger than 1 MiB as JSON (% bytes); send less, or a reference to the data', pg_catalog.octet_length(emit.payload::text)
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    IF pg_catalog.jsonb_path_exists(emit.payload, '$.**{64} ? (@.type() == "object" || @.type() == "array")') THEN
        RAISE EXCEPTION 'attune.emit: payload is nested more than 64 levels deep; flatten it, or pass the deep part as a JSON string'
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    INSERT INTO attune.event (trigger_ref, payload) VALUES (emit.trigger_ref, emit.payload)
    RETURNING id INTO event_id;
    INSERT INTO public.river_job (args, kind, max_attempts, priority, queue, state, scheduled_at,
                                  unique_key, unique_states)
    VALUES (jsonb_build_object('event_id', event_id), 'attune.event.process', 3, 1, 'attune_events',
            'available', now(),
            pg_catalog.sha256(pg_catalog.convert_to('&kind=attune.event.process&args={"event_id":' || event_id || '}', 'UTF8')),
            245::bit(8)); -- available, completed, pending, retryable, running, scheduled
    PERFORM pg_catalog.pg_notify('public.river_insert', '{"queue": "attune_events"}');
    RETURN event_id;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION attune.emit(text, jsonb);
DROP TABLE attune.webhook_delivery;
DROP TABLE attune.webhook;
DROP TABLE attune.api_key;
