-- +goose Up
-- Live output, cancel and re-run (issue 9, sections 6 and 7).

-- A re-run is a new execution with the parameters of an earlier one (attune execution rerun).
ALTER TABLE attune.execution ADD COLUMN rerun_of bigint REFERENCES attune.execution (id) ON DELETE SET NULL;

-- What a shell or python action printed, stored while it runs, in batches (at most every 250 ms
-- or 64 KiB per batch, up to runtimes.output_cap bytes per stream, secrets scrubbed). seq orders
-- the batches of one execution across both streams; rows go with their execution.
CREATE TABLE attune.execution_output (
    execution_id bigint NOT NULL REFERENCES attune.execution (id) ON DELETE CASCADE,
    seq          integer NOT NULL CHECK (seq > 0),
    stream       text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
    data         text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (execution_id, seq)
);

-- Watchers (attune execution tail, attune run, the cancel watcher of every worker, the API's
-- streams) hear of every status transition and every output batch through NOTIFY, sent by these
-- triggers in the transaction that makes the change, so nothing is announced that did not commit.
-- Payloads are small JSON objects (ids, status, action ref), far below NOTIFY's 8000 bytes.
-- +goose StatementBegin
CREATE FUNCTION attune.execution_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('attune_execution', json_build_object(
        'op', CASE TG_OP WHEN 'INSERT' THEN 'created' ELSE 'updated' END,
        'id', NEW.id, 'status', NEW.status, 'action', left(NEW.action_ref, 256))::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER execution_notify_insert AFTER INSERT ON attune.execution
    FOR EACH ROW EXECUTE FUNCTION attune.execution_notify();
CREATE TRIGGER execution_notify_update AFTER UPDATE OF status ON attune.execution
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION attune.execution_notify();

-- +goose StatementBegin
CREATE FUNCTION attune.execution_output_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('attune_output', json_build_object(
        'id', NEW.execution_id, 'seq', NEW.seq, 'stream', NEW.stream)::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER execution_output_notify AFTER INSERT ON attune.execution_output
    FOR EACH ROW EXECUTE FUNCTION attune.execution_output_notify();

-- +goose Down
DROP TRIGGER execution_output_notify ON attune.execution_output;
DROP FUNCTION attune.execution_output_notify();
DROP TRIGGER execution_notify_update ON attune.execution;
DROP TRIGGER execution_notify_insert ON attune.execution;
DROP FUNCTION attune.execution_notify();
DROP TABLE attune.execution_output;
ALTER TABLE attune.execution DROP COLUMN rerun_of;
