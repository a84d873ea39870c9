package db

import (
	"context"
	"fmt"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// Action returns a registered action by ref.
func (q *Queries) Action(ctx context.Context, ref string) (attune.Action, int64, error) {
	r, err := q.q.ActionGetByRef(ctx, ref)
	if err != nil {
		return attune.Action{}, 0, notFound(err, "action", ref)
	}
	a, err := toAction(r)
	return a, r.ID, err
}

// ActionForRule returns the action a rule runs, its id, and the config of the rule's pack
// (packRef), in one statement.
func (q *Queries) ActionForRule(ctx context.Context, actionRef, packRef string) (attune.Action, int64, map[string]any, error) {
	r, err := q.q.ActionForRule(ctx, dbsqlc.ActionForRuleParams{ActionRef: actionRef, PackRef: packRef})
	if err != nil {
		return attune.Action{}, 0, nil, notFound(err, "action", actionRef)
	}
	a, err := toAction(r.AttuneAction)
	if err != nil {
		return a, 0, nil, err
	}
	cfg, err := object(r.PackConfig, "config")
	if err != nil {
		return a, 0, nil, fmt.Errorf("pack %s: %w", packRef, err)
	}
	return a, r.AttuneAction.ID, cfg, nil
}

// ActionByID returns a registered action by id.
func (q *Queries) ActionByID(ctx context.Context, id int64) (attune.Action, error) {
	r, err := q.q.ActionGetByID(ctx, id)
	if err != nil {
		return attune.Action{}, notFound(err, "action id", id)
	}
	return toAction(r)
}

// Actions lists registered actions (without their entry point content).
func (q *Queries) Actions(ctx context.Context) ([]attune.Action, error) {
	rows, err := q.q.ActionList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	out := make([]attune.Action, len(rows))
	for i, r := range rows {
		out[i] = attune.Action{Ref: r.Ref, PackRef: r.PackRef, Label: r.Label, Description: r.Description,
			Runtime: r.Runtime, EntryPoint: r.EntryPoint, TimeoutSec: int(r.TimeoutSeconds)}
	}
	return out, nil
}

// Rule returns a rule by ref.
func (q *Queries) Rule(ctx context.Context, ref string) (attune.Rule, error) {
	r, err := q.q.RuleGetByRef(ctx, ref)
	if err != nil {
		return attune.Rule{}, notFound(err, "rule", ref)
	}
	return toRule(r)
}

// RuleByID returns a rule by id.
func (q *Queries) RuleByID(ctx context.Context, id int64) (attune.Rule, error) {
	r, err := q.q.RuleGetByID(ctx, id)
	if err != nil {
		return attune.Rule{}, notFound(err, "rule id", id)
	}
	return toRule(r)
}

// Rules lists every rule.
func (q *Queries) Rules(ctx context.Context) ([]attune.Rule, error) {
	rows, err := q.q.RuleList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	return mapRows(rows, toRule)
}

// RulesForTrigger lists the enabled rules on a trigger.
func (q *Queries) RulesForTrigger(ctx context.Context, triggerRef string) ([]attune.Rule, error) {
	rows, err := q.q.RuleListEnabledByTrigger(ctx, triggerRef)
	if err != nil {
		return nil, fmt.Errorf("rules for trigger %s: %w", triggerRef, err)
	}
	return mapRows(rows, toRule)
}

// RuleSetEnabled enables or disables a rule and returns it.
func (q *Queries) RuleSetEnabled(ctx context.Context, ref string, enabled bool) (attune.Rule, error) {
	r, err := q.q.RuleSetEnabled(ctx, dbsqlc.RuleSetEnabledParams{Ref: ref, Enabled: enabled})
	if err != nil {
		return attune.Rule{}, notFound(err, "rule", ref)
	}
	return toRule(r)
}

// RuleDelete deletes a rule and returns it with its timer's pending fire job, which the caller cancels.
func (q *Queries) RuleDelete(ctx context.Context, ref string) (RemovedRule, error) {
	r, err := q.q.RuleDelete(ctx, ref)
	if err != nil {
		return RemovedRule{}, notFound(err, "rule", ref)
	}
	return RemovedRule{ID: r.ID, Ref: r.Ref, FireJobID: r.FireJobID}, nil
}

// TriggerExists reports whether a trigger is registered.
func (q *Queries) TriggerExists(ctx context.Context, ref string) (bool, error) {
	return q.q.TriggerExists(ctx, ref)
}
