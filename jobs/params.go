package jobs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/rules"
	"github.com/attune-run/attune/runtimes"
	"github.com/attune-run/attune/secrets"
)

// prepared is an action's parameters ready to store on an enforcement and an execution.
type prepared struct {
	stored map[string]any // defaults applied, validated, secret parameters redacted
	sealed []byte         // the secret parameters' values, sealed; nil when none
}

// prepare validates given against the action's schema after applying its defaults, and splits
// off the secret parameters: they are stored redacted, their values sealed under the secrets
// key. An invalid parameter is an error holding params.FieldErrors (attune.ErrInvalid); a secret
// value with no key configured is an error wrapping secrets.ErrNoKey. Errors never hold a
// secret's value.
func (p *Pipeline) prepare(action attune.Action, given map[string]any) (prepared, error) {
	full, err := params.Apply(action.Parameters, given)
	if err != nil {
		return prepared{}, fmt.Errorf("parameters of action %s: %w", action.Ref, err)
	}
	prep := prepared{stored: params.Redact(full, action.Parameters)}
	vals := params.SecretValues(full, action.Parameters)
	if vals == nil {
		return prep, nil
	}
	if p.Secrets == nil {
		return prepared{}, fmt.Errorf("action %s has secret parameters (%s): %w",
			action.Ref, strings.Join(params.Secrets(action.Parameters), ", "), secrets.ErrNoKey)
	}
	if prep.sealed, err = p.Secrets.SealJSON(vals); err != nil {
		return prepared{}, fmt.Errorf("action %s: seal secret parameters: %w", action.Ref, err)
	}
	return prep, nil
}

// runParameters returns what the action process gets: the stored parameters with the secret
// values opened and merged back, and a scrubber for those values and for more (the pack's
// secret config values, when the action sees them). Errors say what an operator must fix; they
// never hold a secret's value.
func (p *Pipeline) runParameters(x attune.Execution, more map[string]any) (map[string]any, *params.Scrubber, error) {
	if len(x.SealedSecrets) == 0 {
		return x.Parameters, params.NewScrubber(more), nil
	}
	if p.Secrets == nil {
		return nil, params.NewScrubber(nil), fmt.Errorf("execution %d has secret parameters, but worker %s has no secrets.key: "+
			"set the same secrets.key on every replica", x.ID, p.Worker)
	}
	var vals map[string]any
	if err := p.Secrets.OpenJSON(x.SealedSecrets, &vals); err != nil {
		return nil, params.NewScrubber(nil), fmt.Errorf("execution %d: open secret parameters: %w", x.ID, err)
	}
	out := maps.Clone(x.Parameters)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, vals)
	all := maps.Clone(more)
	if all == nil {
		all = map[string]any{}
	}
	for k, v := range vals { // distinct keys: a parameter and a config key may share a name
		all["param:"+k] = v
	}
	return out, params.NewScrubber(all), nil
}

// scrub replaces the secret values in everything of a result that is stored and shown: stdout,
// stderr, the error line and the parsed data.
func scrub(res runtimes.Result, sc *params.Scrubber) runtimes.Result {
	if sc.Empty() {
		return res
	}
	res.Stdout = sc.String(res.Stdout)
	res.Stderr = sc.String(res.Stderr)
	res.Error = sc.String(res.Error)
	res.Data = sc.Value(res.Data)
	return res
}

// CheckRuleParams checks a rule's literal action parameters against the schema its action has
// in the database (see params.CheckLiteral), in the caller's transaction. Pack registration
// calls it for every rule once all the pack's rows are written, so a rule running another
// pack's action (core.sleep from a user pack) is checked too. A rule whose action is not
// registered is left to the registration's own check.
func CheckRuleParams(ctx context.Context, q *db.Queries, rule attune.Rule) error {
	action, _, err := q.Action(ctx, rule.ActionRef)
	if errors.Is(err, attune.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rule %s: %w", rule.Ref, err)
	}
	if err := rules.CheckSecretParams(rule.ActionParams, action.Parameters); err != nil {
		return fmt.Errorf("rule %s (action %s): %w", rule.Ref, action.Ref, err)
	}
	if err := params.CheckLiteral(action.Parameters, rule.ActionParams); err != nil {
		return fmt.Errorf("rule %s: action_params do not fit action %s: %w", rule.Ref, action.Ref, err)
	}
	return nil
}
