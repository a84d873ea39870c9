-- name: RuleUpsert :one
-- enabled is the pack file's only for a new rule: re-registering keeps the operator's choice
-- (attune rule enable/disable).
INSERT INTO attune.rule (ref, pack_id, pack_ref, label, description, trigger_ref, action_ref,
    enabled, criteria, action_params, trigger_params)
VALUES (@ref, @pack_id, @pack_ref, @label, @description, @trigger_ref, @action_ref,
    @enabled, @criteria, @action_params, @trigger_params)
ON CONFLICT (ref) DO UPDATE
SET pack_id = EXCLUDED.pack_id, pack_ref = EXCLUDED.pack_ref, label = EXCLUDED.label,
    description = EXCLUDED.description, trigger_ref = EXCLUDED.trigger_ref,
    action_ref = EXCLUDED.action_ref, criteria = EXCLUDED.criteria,
    action_params = EXCLUDED.action_params, trigger_params = EXCLUDED.trigger_params,
    updated_at = now()
RETURNING *;

-- name: RuleDeleteMissing :many
-- The timers go first, in the same statement: deleting a timer row waits for a fire that is
-- committing, and RETURNING then gives the fire job that fire left pending.
WITH gone AS (
    SELECT g.id FROM attune.rule g WHERE g.pack_id = @pack_id AND NOT (g.ref = ANY(@keep::text[]))
), timers AS (
    DELETE FROM attune.timer t WHERE t.rule_id IN (SELECT id FROM gone) RETURNING t.rule_id, t.fire_job_id
)
DELETE FROM attune.rule r WHERE r.id IN (SELECT id FROM gone)
RETURNING r.id, r.ref, (SELECT timers.fire_job_id FROM timers WHERE timers.rule_id = r.id) AS fire_job_id;

-- name: RuleDelete :one
WITH timers AS (
    DELETE FROM attune.timer t USING attune.rule g WHERE g.ref = @ref AND t.rule_id = g.id
    RETURNING t.rule_id, t.fire_job_id
)
DELETE FROM attune.rule r WHERE r.ref = @ref
RETURNING r.id, r.ref, (SELECT timers.fire_job_id FROM timers WHERE timers.rule_id = r.id) AS fire_job_id;

-- name: RuleGetByRef :one
SELECT * FROM attune.rule WHERE ref = @ref;

-- name: RuleGetByID :one
SELECT * FROM attune.rule WHERE id = @id;

-- name: RuleList :many
SELECT * FROM attune.rule ORDER BY ref;

-- name: RuleListEnabledByTrigger :many
SELECT * FROM attune.rule WHERE trigger_ref = @trigger_ref AND enabled ORDER BY id;

-- name: RuleListForEvent :many
-- The rules an event is for, read from the event itself (so it can be pipelined with EventGet):
-- the enabled rule it targets when it names one, else the enabled rules of its trigger.
SELECT r.* FROM attune.event e JOIN attune.rule r ON r.trigger_ref = e.trigger_ref AND r.enabled
WHERE e.id = @event_id AND e.rule_id IS NULL
UNION ALL
SELECT r.* FROM attune.event e JOIN attune.rule r ON r.id = e.rule_id AND r.enabled
WHERE e.id = @event_id
ORDER BY id;

-- name: RuleSetEnabled :one
UPDATE attune.rule SET enabled = @enabled, updated_at = now() WHERE ref = @ref RETURNING *;
