-- +goose Up
-- Events that report an execution's end (core.actiontrigger, StackStorm's
-- core.st2.generic.actiontrigger) name their execution: one event per execution, so a
-- redelivered status job records nothing twice. depth counts the links of a chain of such
-- events (an execution's event is one deeper than the event that caused the execution; 0 for
-- events from outside), so a rule that reacts to its own action's end stops at
-- attune.MaxActionTriggerDepth instead of looping forever.
ALTER TABLE attune.event ADD COLUMN execution_id bigint;
ALTER TABLE attune.event ADD COLUMN depth integer NOT NULL DEFAULT 0;
-- Serves the status job's insert (ON CONFLICT) and `which event reported execution N`.
CREATE UNIQUE INDEX event_execution_key ON attune.event (execution_id) WHERE execution_id IS NOT NULL;

-- +goose Down
DROP INDEX attune.event_execution_key;
ALTER TABLE attune.event DROP COLUMN depth;
ALTER TABLE attune.event DROP COLUMN execution_id;
