-- +goose Up
-- Pack config values whose config.schema.yaml key says secret: true are stored masked
-- ("********") in pack.config; their values live here, sealed with AES-256-GCM under
-- secrets.key, as secret parameters are (00003). The worker opens them only for a
-- python-script action of the pack that runs (self.config).
ALTER TABLE attune.pack ADD COLUMN sealed_config bytea;
-- The pack's requirements.txt, as given: a worker makes the pack's virtualenv from it on the
-- first python-script run, keyed by its hash (runtimes/venv.go).
ALTER TABLE attune.pack ADD COLUMN requirements text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE attune.pack DROP COLUMN requirements;
ALTER TABLE attune.pack DROP COLUMN sealed_config;
