package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/rules"
)

// considerRule matches one candidate rule against an event, records what it made of it (matched,
// not matched with the reason, or error) and, on a match, enforces the rule, all in the caller's
// transaction. configs caches pack configs for the event's other rules.
func (p *Pipeline) considerRule(ctx context.Context, q *db.Queries, ev attune.Event, rule attune.Rule, configs map[string]map[string]any) error {
	log := p.Log.With("event_id", ev.ID, "rule", rule.Ref)
	o := db.NewRuleOutcome{EventID: ev.ID, Rule: rule, Outcome: attune.OutcomeMatched}
	out, err := p.match(ctx, q, ev, rule, configs)
	switch {
	case errors.Is(err, errDatabase):
		return err
	case err != nil:
		o.Outcome, o.Reason = attune.OutcomeError, err.Error()
		log.Warn("rule criteria failed", "error", err)
	case !out.Matched:
		o.Outcome, o.Reason = attune.OutcomeNotMatched, out.Reason
		log.Debug("rule did not match", "reason", out.Reason)
	}
	if err := q.RuleOutcomeInsert(ctx, o); err != nil {
		return err
	}
	if o.Outcome != attune.OutcomeMatched {
		return nil
	}
	res, err := p.Enforce(ctx, q, ev, rule)
	if errors.Is(err, attune.ErrConflict) {
		return nil // enforced by an earlier delivery
	}
	if err != nil {
		return fmt.Errorf("enforce rule %s on event %d: %w", rule.Ref, ev.ID, err)
	}
	if res.Execution != nil {
		log.Debug("execution scheduled", "execution_id", res.Execution.ID, "action", res.Execution.ActionRef)
	}
	return nil
}

// errDatabase marks a match error that is the database's, not the rule's: the event is
// processed again rather than the rule recorded as failing.
var errDatabase = errors.New("database")

// match evaluates a rule's criteria, compiled once per rule text (see rules.CriteriaCache),
// against an event. Expression criteria see the rule's pack config as pack.config.
func (p *Pipeline) match(ctx context.Context, q *db.Queries, ev attune.Event, rule attune.Rule, configs map[string]map[string]any) (rules.Outcome, error) {
	crit, err := p.criteria.Get(rule.ID, rule.Criteria)
	if err != nil {
		return rules.Outcome{}, fmt.Errorf("criteria do not compile (fix the rule and register its pack again): %w", err)
	}
	var config map[string]any
	if crit.IsExpression() {
		var ok bool
		if config, ok = configs[rule.PackRef]; !ok {
			pack, err := q.Pack(ctx, rule.PackRef)
			if err != nil {
				return rules.Outcome{}, fmt.Errorf("%w: pack %s of rule %s: %w", errDatabase, rule.PackRef, rule.Ref, err)
			}
			config = pack.Config
			configs[rule.PackRef] = config
		}
	}
	kv := p.kvReader(ctx, q)
	out, err := crit.Match(rules.NewEnv(ev, rule, config, p.now()).WithKV(kv))
	if kv.err != nil {
		return rules.Outcome{}, fmt.Errorf("%w: read the datastore for rule %s: %w", errDatabase, rule.Ref, kv.err)
	}
	return out, err
}
