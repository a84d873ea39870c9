-- name: WorkerHeartbeat :exec
INSERT INTO attune.worker (name, roles, hostname, pid, started_at, last_seen_at)
VALUES (@name, @roles, @hostname, @pid, now(), now())
ON CONFLICT (name) DO UPDATE SET roles = EXCLUDED.roles, last_seen_at = now();

-- name: WorkerList :many
SELECT * FROM attune.worker ORDER BY last_seen_at DESC;

-- name: JobCountsByQueueState :many
SELECT queue, state, count(*)::bigint AS n FROM river_job GROUP BY queue, state ORDER BY queue, state;

-- name: WorkerDelete :exec
DELETE FROM attune.worker WHERE name = @name;
