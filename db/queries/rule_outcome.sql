-- name: RuleOutcomeInsert :exec
-- Idempotent on (event, rule): a redelivered event records nothing new.
INSERT INTO attune.rule_outcome (event_id, rule_id, rule_ref, outcome, reason)
VALUES (@event_id, @rule_id, @rule_ref, @outcome, @reason)
ON CONFLICT ON CONSTRAINT rule_outcome_event_rule_key DO NOTHING;

-- name: RuleOutcomeListByEvent :many
SELECT * FROM attune.rule_outcome WHERE event_id = @event_id ORDER BY id;

-- name: EventProcessJob :many
-- The attune.event.process job of an event (the newest, should River ever hold two), and the
-- last error of its latest attempt. Matches River's GIN index on args.
SELECT id, state, attempt, coalesce(errors[array_length(errors, 1)] ->> 'error', '')::text AS last_error
FROM river_job
WHERE kind = 'attune.event.process' AND args @> jsonb_build_object('event_id', @event_id::bigint)
ORDER BY id DESC LIMIT 1;

-- name: RuleOutcomeExists :one
-- Whether an event's rules were considered (a processing attempt committed).
SELECT EXISTS (SELECT 1 FROM attune.rule_outcome WHERE event_id = @event_id);
