-- +goose Up
-- Secret parameters (secret: true in an action's schema) are stored redacted ("********") in
-- execution.parameters and enforcement.parameters; their values live here, sealed with
-- AES-256-GCM under secrets.key (see package secrets). The worker opens them just before it
-- runs the action and delivers them on stdin only. A retry copies them to its new attempt.
ALTER TABLE attune.execution ADD COLUMN secrets bytea;

-- +goose Down
ALTER TABLE attune.execution DROP COLUMN secrets;
