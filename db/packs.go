package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// Registration is what RegisterPack changed.
type Registration struct {
	Rules        []attune.Rule // every rule of the pack, as stored
	RemovedRules []RemovedRule // rules that vanished from the pack and were deleted
}

// RemovedRule is a deleted rule and the pending fire job of its timer, which the caller cancels.
type RemovedRule struct {
	ID        int64
	Ref       string
	FireJobID *int64
}

// RegisterPack upserts a pack with its triggers, actions and rules, and deletes the ones that
// vanished from it. Run it in a transaction: a failure leaves the previous registration intact.
// Rules that point at a trigger or action that does not exist are rejected.
func (q *Queries) RegisterPack(ctx context.Context, p *attune.Pack) (*Registration, error) {
	var missing []string
	for _, dep := range p.Dependencies {
		if _, err := q.Pack(ctx, dep); errors.Is(err, attune.ErrNotFound) {
			missing = append(missing, dep)
		} else if err != nil {
			return nil, fmt.Errorf("pack %s: look up dependency %s: %w", p.Ref, dep, err)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("pack %s depends on packs that are not registered: %s; register them first: %w",
			p.Ref, strings.Join(missing, ", "), attune.ErrInvalid)
	}
	cfg, err := jsonb(p.Config)
	if err != nil {
		return nil, fmt.Errorf("pack %s config: %w", p.Ref, err)
	}
	pk, err := q.q.PackUpsert(ctx, dbsqlc.PackUpsertParams{
		Ref: p.Ref, Label: p.Label, Description: p.Description, Version: p.Version, Config: cfg,
		SealedConfig: p.SealedConfig, Requirements: p.Requirements,
	})
	if err != nil {
		return nil, fmt.Errorf("upsert pack %s: %w", p.Ref, err)
	}
	var triggerRefs, actionRefs, ruleRefs []string
	for _, t := range p.Triggers {
		ps, err1 := jsonb(t.Parameters)
		pl, err2 := jsonb(t.Payload)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("trigger %s schema: %v %v", t.Ref, err1, err2)
		}
		if _, err := q.q.TriggerUpsert(ctx, dbsqlc.TriggerUpsertParams{
			Ref: t.Ref, PackID: pk.ID, PackRef: p.Ref, Label: t.Label, Description: t.Description,
			ParamSchema: ps, PayloadSchema: pl,
		}); err != nil {
			return nil, fmt.Errorf("upsert trigger %s: %w", t.Ref, err)
		}
		triggerRefs = append(triggerRefs, t.Ref)
	}
	for _, a := range p.Actions {
		if err := q.upsertAction(ctx, pk.ID, p.Ref, a); err != nil {
			return nil, err
		}
		actionRefs = append(actionRefs, a.Ref)
	}
	reg := &Registration{}
	for _, r := range p.Rules {
		row, err := q.upsertRule(ctx, pk.ID, p.Ref, r)
		if err != nil {
			return nil, err
		}
		rule, err := toRule(row)
		if err != nil {
			return nil, err
		}
		reg.Rules = append(reg.Rules, rule)
		ruleRefs = append(ruleRefs, r.Ref)
	}
	removed, err := q.q.RuleDeleteMissing(ctx, dbsqlc.RuleDeleteMissingParams{PackID: pk.ID, Keep: nonNil(ruleRefs)})
	if err != nil {
		return nil, fmt.Errorf("delete rules gone from pack %s: %w", p.Ref, err)
	}
	for _, r := range removed {
		reg.RemovedRules = append(reg.RemovedRules, RemovedRule{ID: r.ID, Ref: r.Ref, FireJobID: r.FireJobID})
	}
	if err := q.registerPolicies(ctx, pk.ID, p); err != nil {
		return nil, err
	}
	if err := q.q.ActionDeleteMissing(ctx, dbsqlc.ActionDeleteMissingParams{PackID: pk.ID, Keep: nonNil(actionRefs)}); err != nil {
		return nil, fmt.Errorf("delete actions gone from pack %s: %w", p.Ref, err)
	}
	if err := q.q.TriggerDeleteMissing(ctx, dbsqlc.TriggerDeleteMissingParams{PackID: pk.ID, Keep: nonNil(triggerRefs)}); err != nil {
		return nil, fmt.Errorf("delete triggers gone from pack %s: %w", p.Ref, err)
	}
	// Rules may point at other packs' actions and triggers: check them once everything is written.
	for _, r := range reg.Rules {
		ok, err := q.q.TriggerExists(ctx, r.TriggerRef)
		if err != nil {
			return nil, fmt.Errorf("rule %s: look up trigger %q: %w", r.Ref, r.TriggerRef, err)
		}
		if !ok {
			return nil, fmt.Errorf("rule %s: trigger %q is not registered (register its pack first): %w", r.Ref, r.TriggerRef, attune.ErrInvalid)
		}
		if _, err := q.q.ActionGetByRef(ctx, r.ActionRef); err != nil {
			if noRow(err) {
				return nil, fmt.Errorf("rule %s: action %q is not registered (register its pack first): %w", r.Ref, r.ActionRef, attune.ErrInvalid)
			}
			return nil, fmt.Errorf("rule %s: look up action: %w", r.Ref, err)
		}
	}
	return reg, nil
}

func (q *Queries) upsertAction(ctx context.Context, packID int64, packRef string, a attune.Action) error {
	ps, err := jsonb(a.Parameters)
	if err != nil {
		return fmt.Errorf("action %s parameters: %w", a.Ref, err)
	}
	timeout := a.TimeoutSec
	if timeout <= 0 {
		timeout = attune.DefaultActionTimeoutSec
	}
	var retry []byte
	if a.Retry != nil {
		if retry, err = jsonb(a.Retry); err != nil {
			return fmt.Errorf("action %s retry: %w", a.Ref, err)
		}
	}
	env, err := jsonb(nonNilEnv(a.Env))
	if err != nil {
		return fmt.Errorf("action %s env: %w", a.Ref, err)
	}
	files := []byte("{}")
	if len(a.Files) > 0 {
		if files, err = json.Marshal(a.Files); err != nil {
			return fmt.Errorf("action %s files: %w", a.Ref, err)
		}
	}
	_, err = q.q.ActionUpsert(ctx, dbsqlc.ActionUpsertParams{
		Ref: a.Ref, PackID: packID, PackRef: packRef, Label: a.Label, Description: a.Description,
		Runtime: a.Runtime, EntryPoint: a.EntryPoint, EntryContent: nonNilBytes(a.EntryContent),
		ParamSchema: ps, ParameterFormat: orDefault(a.ParameterFormat, attune.ParamsJSON),
		ParameterDelivery: orDefault(a.ParameterDelivery, attune.DeliveryStdin),
		OutputFormat:      orDefault(a.OutputFormat, attune.OutputText),
		TimeoutSeconds:    int32(timeout), Retry: retry, Env: env, Files: files,
	})
	if err != nil {
		return fmt.Errorf("upsert action %s: %w", a.Ref, err)
	}
	return nil
}

func (q *Queries) upsertRule(ctx context.Context, packID int64, packRef string, r attune.Rule) (dbsqlc.AttuneRule, error) {
	ap, err1 := jsonb(r.ActionParams)
	tp, err2 := jsonb(r.TriggerParams)
	if err1 != nil || err2 != nil {
		return dbsqlc.AttuneRule{}, fmt.Errorf("rule %s params: %v %v", r.Ref, err1, err2)
	}
	var criteria []byte
	if len(r.Criteria) > 0 {
		criteria = r.Criteria
	}
	row, err := q.q.RuleUpsert(ctx, dbsqlc.RuleUpsertParams{
		Ref: r.Ref, PackID: packID, PackRef: packRef, Label: r.Label, Description: r.Description,
		TriggerRef: r.TriggerRef, ActionRef: r.ActionRef, Enabled: r.Enabled, Criteria: criteria,
		ActionParams: ap, TriggerParams: tp,
	})
	if err != nil {
		return row, fmt.Errorf("upsert rule %s: %w", r.Ref, err)
	}
	return row, nil
}

// Pack returns a registered pack's ref, version, config (secret values masked), sealed secret
// config values and requirements.
func (q *Queries) Pack(ctx context.Context, ref string) (attune.Pack, error) {
	r, err := q.q.PackGetByRef(ctx, ref)
	if err != nil {
		return attune.Pack{}, notFound(err, "pack", ref)
	}
	return toPack(r)
}

func toPack(r dbsqlc.AttunePack) (attune.Pack, error) {
	cfg, err := object(r.Config, "config")
	if err != nil {
		return attune.Pack{}, fmt.Errorf("pack %s: %w", r.Ref, err)
	}
	return attune.Pack{Ref: r.Ref, Label: r.Label, Description: r.Description, Version: r.Version, Config: cfg,
		SealedConfig: r.SealedConfig, Requirements: r.Requirements}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// nonNilEnv returns env, or an empty map for nil: the column holds {} rather than null.
func nonNilEnv(env map[string]string) map[string]string {
	if env == nil {
		return map[string]string{}
	}
	return env
}
