-- +goose Up
-- Action policies (a pack's policies/*.yaml): concurrency limits, per action or per value of
-- some of its parameters. action.retry policies are folded into the action's retry at load time.
CREATE TABLE attune.policy (
    id          bigserial PRIMARY KEY,
    ref         text NOT NULL UNIQUE,
    pack_id     bigint NOT NULL REFERENCES attune.pack (id) ON DELETE CASCADE,
    pack_ref    text NOT NULL,
    action_ref  text NOT NULL,
    policy_type text NOT NULL CHECK (policy_type IN ('action.concurrency', 'action.concurrency.attr')),
    threshold   integer NOT NULL CHECK (threshold > 0),
    on_full     text NOT NULL CHECK (on_full IN ('delay', 'cancel')),
    attributes  text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- One concurrency policy per action: its row is the lock that serialises admission.
CREATE UNIQUE INDEX policy_action_key ON attune.policy (action_ref);

-- Who holds a slot of a policy (state held) and who waits for one (state waiting), per slot key
-- (the values of the attributes, '' for action.concurrency). A slot is taken in the transaction
-- that schedules the execution and given back in the one that records its terminal status.
CREATE TABLE attune.policy_slot (
    execution_id bigint PRIMARY KEY REFERENCES attune.execution (id) ON DELETE CASCADE,
    policy_ref   text NOT NULL,
    slot_key     text NOT NULL,
    state        text NOT NULL CHECK (state IN ('held', 'waiting')),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX policy_slot_key_idx ON attune.policy_slot (policy_ref, slot_key, state, execution_id);

-- +goose Down
DROP TABLE attune.policy_slot;
DROP TABLE attune.policy;
