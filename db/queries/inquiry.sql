-- name: InquiryInsert :one
-- One inquiry per execution: no row when a redelivered dispatch already created it.
INSERT INTO attune.inquiry (id, schema, ttl_minutes, users, route, expires_at)
VALUES (@id, @schema, @ttl_minutes, @users, @route, @expires_at)
ON CONFLICT (id) DO NOTHING
RETURNING *;

-- name: InquiryGet :one
SELECT * FROM attune.inquiry WHERE id = @id;

-- name: InquiryList :many
SELECT * FROM attune.inquiry
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(after)::bigint IS NULL OR id < sqlc.narg(after))
ORDER BY id DESC LIMIT @lim;

-- name: InquiryRespond :one
-- Compare-and-set pending -> responded: no row when someone else answered first, or it ended.
UPDATE attune.inquiry
SET status = 'responded', response = @response, responded_by = @responded_by, responded_at = now()
WHERE id = @id AND status = 'pending'
RETURNING *;

-- name: InquiryClose :one
-- Compare-and-set pending -> expired or cancelled: no row when it is not pending any more.
UPDATE attune.inquiry SET status = @status
WHERE id = @id AND status = 'pending'
RETURNING *;
