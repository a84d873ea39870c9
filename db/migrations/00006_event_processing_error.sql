-- +goose Up
-- Why an event was not processed, when it was given up on: a previous attempt at processing it
-- died with its process (out of memory, killed), so it is not evaluated again. `attune event get`
-- shows it. Empty for an event processed normally.
ALTER TABLE attune.event ADD COLUMN processing_error text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE attune.event DROP COLUMN processing_error;
