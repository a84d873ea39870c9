-- name: EnforcementInsert :one
-- Idempotent on (rule, event): a redelivered event yields no second enforcement (no row returned).
INSERT INTO attune.enforcement (rule_id, rule_ref, event_id, status, parameters, reason, resolved_at)
VALUES (@rule_id, @rule_ref, @event_id, @status, @parameters, @reason, @resolved_at)
ON CONFLICT ON CONSTRAINT enforcement_rule_event_key DO NOTHING
RETURNING *;

-- name: EnforcementListByEvent :many
SELECT * FROM attune.enforcement WHERE event_id = @event_id ORDER BY id;

-- name: EnforcementGet :one
SELECT * FROM attune.enforcement WHERE id = @id;
