-- name: PolicyUpsert :exec
INSERT INTO attune.policy (ref, pack_id, pack_ref, action_ref, policy_type, threshold, on_full, attributes)
VALUES (@ref, @pack_id, @pack_ref, @action_ref, @policy_type, @threshold, @on_full, @attributes::text[])
ON CONFLICT (ref) DO UPDATE
SET pack_id = EXCLUDED.pack_id, pack_ref = EXCLUDED.pack_ref, action_ref = EXCLUDED.action_ref,
    policy_type = EXCLUDED.policy_type, threshold = EXCLUDED.threshold, on_full = EXCLUDED.on_full,
    attributes = EXCLUDED.attributes, updated_at = now();

-- name: PolicyDeleteMissing :exec
DELETE FROM attune.policy WHERE pack_id = @pack_id AND NOT (ref = ANY(@keep::text[]));

-- name: PolicyForActionLock :one
-- The action's concurrency policy, locked until the transaction ends: admissions and releases
-- of one policy take turns.
SELECT * FROM attune.policy WHERE action_ref = @action_ref FOR UPDATE;

-- name: PolicyLock :one
SELECT * FROM attune.policy WHERE ref = @ref FOR UPDATE;

-- name: PolicySlotCounts :one
SELECT count(*) FILTER (WHERE state = 'held')::bigint AS held,
       count(*) FILTER (WHERE state = 'waiting')::bigint AS waiting
FROM attune.policy_slot WHERE policy_ref = @policy_ref AND slot_key = @slot_key;

-- name: PolicySlotInsert :exec
INSERT INTO attune.policy_slot (execution_id, policy_ref, slot_key, state)
VALUES (@execution_id, @policy_ref, @slot_key, @state);

-- name: PolicyWaiters :many
-- The oldest waiters of a slot key, first created first.
SELECT execution_id FROM attune.policy_slot
WHERE policy_ref = @policy_ref AND slot_key = @slot_key AND state = 'waiting'
ORDER BY execution_id LIMIT @lim::int;

-- name: PolicySlotHold :exec
UPDATE attune.policy_slot SET state = 'held' WHERE execution_id = @execution_id;

-- name: PolicySlotDelete :exec
DELETE FROM attune.policy_slot WHERE execution_id = @execution_id;

-- name: ExecutionAdmit :one
-- Compare-and-set requested -> scheduled, for a waiter given a slot, with its history row, in
-- one statement.
WITH x AS (
    UPDATE attune.execution e SET status = 'scheduled', scheduled_at = now(), updated_at = now()
    WHERE e.id = @id AND e.status = 'requested'
    RETURNING e.*
), h AS (
    INSERT INTO attune.execution_history (execution_id, from_status, to_status, worker, reason)
    SELECT x.id, 'requested', 'scheduled', '', @reason::text FROM x
)
SELECT * FROM x;

-- name: PolicyList :many
SELECT p.*,
    (SELECT count(*) FROM attune.policy_slot s WHERE s.policy_ref = p.ref AND s.state = 'held')::bigint AS held,
    (SELECT count(*) FROM attune.policy_slot s WHERE s.policy_ref = p.ref AND s.state = 'waiting')::bigint AS waiting
FROM attune.policy p ORDER BY p.ref;

-- name: PolicyKeysWithWaiters :many
SELECT DISTINCT policy_ref, slot_key FROM attune.policy_slot WHERE state = 'waiting' ORDER BY policy_ref, slot_key;
