-- +goose Up
-- An action may declare literal environment variables for its process ({NAME: value}); the
-- rest of its environment is an allow-list, never the worker's (see docs/security.md).
ALTER TABLE attune.action ADD COLUMN env jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE attune.action DROP COLUMN env;
