-- +goose Up
-- What every rule considered for an event made of it: matched, not matched (with the criterion
-- that failed and the value it saw) or error. Written in the transaction that processes the
-- event; `attune event get ID` shows it.
CREATE TABLE attune.rule_outcome (
    id         bigserial PRIMARY KEY,
    event_id   bigint NOT NULL REFERENCES attune.event (id) ON DELETE CASCADE,
    rule_id    bigint REFERENCES attune.rule (id) ON DELETE SET NULL,
    rule_ref   text NOT NULL,
    outcome    text NOT NULL CHECK (outcome IN ('matched', 'not_matched', 'error')),
    reason     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    -- A rule is considered once per event; a redelivered event records nothing new.
    CONSTRAINT rule_outcome_event_rule_key UNIQUE (event_id, rule_id)
);
CREATE INDEX rule_outcome_rule_idx ON attune.rule_outcome (rule_id, id);

-- +goose Down
DROP TABLE attune.rule_outcome;
