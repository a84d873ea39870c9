// Package registry registers packs and enables or disables rules. Each change is one
// transaction that writes the catalog (packs, actions, rules) and brings the rules' timers in
// step with it, so a rule is never enabled without its timer or disabled with a fire still
// pending. Registration reaches the timers through the small Timers interface; firing and
// reconciling them stay in package sensors.
package registry

import (
	"context"
	"log/slog"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
)

// Timers is what registration needs of the timers, each in the caller's transaction: bring a
// rule's timer in step with the rule (schedule it, keep it, or stop it), and cancel the pending
// fire job of a rule that was deleted. *sensors.Timers implements it.
type Timers interface {
	Sync(ctx context.Context, q *db.Queries, rule attune.Rule) error
	CancelFire(ctx context.Context, q *db.Queries, jobID *int64) error
}

// Registry registers packs and enables or disables rules.
type Registry struct {
	p      *jobs.Pipeline
	timers Timers
	log    *slog.Logger
}

// New returns a registry writing through p's database and keeping timers in step. A nil log
// discards.
func New(p *jobs.Pipeline, timers Timers, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{p: p, timers: timers, log: log}
}

// RegisterPack upserts a pack and brings its rules' timers in step, in one transaction: timers
// of new or changed rules are scheduled, timers of disabled rules stop, and the pending fire
// jobs of rules that vanished from the pack are cancelled. A failure changes nothing. The
// pack's secret config values are sealed first (see jobs.Pipeline.SealPackConfig).
func (r *Registry) RegisterPack(ctx context.Context, p *attune.Pack) (*db.Registration, error) {
	if err := r.p.SealPackConfig(p); err != nil {
		return nil, err
	}
	var reg *db.Registration
	err := r.p.DB.InTx(ctx, func(q *db.Queries) error {
		var err error
		if reg, err = q.RegisterPack(ctx, p); err != nil {
			return err
		}
		for _, rule := range reg.Rules {
			if err := jobs.CheckRuleParams(ctx, q, rule); err != nil {
				return err
			}
			if err := r.timers.Sync(ctx, q, rule); err != nil {
				return err
			}
		}
		for _, rule := range reg.RemovedRules {
			if err := r.timers.CancelFire(ctx, q, rule.FireJobID); err != nil {
				return err
			}
			r.log.Info("rule removed with its pack", "rule", rule.Ref)
		}
		return nil
	})
	return reg, err
}

// SetRuleEnabled enables or disables a rule and starts or stops its timer, in one transaction.
func (r *Registry) SetRuleEnabled(ctx context.Context, ref string, enabled bool) (attune.Rule, error) {
	var rule attune.Rule
	err := r.p.DB.InTx(ctx, func(q *db.Queries) error {
		var err error
		if rule, err = q.RuleSetEnabled(ctx, ref, enabled); err != nil {
			return err
		}
		return r.timers.Sync(ctx, q, rule)
	})
	return rule, err
}
