package jobs

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/packs"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/rules"
)

// prepareST2 is prepare for an action whose parameter defaults may be templates (StackStorm's
// runners): the defaults of the parameters not given are rendered first, in the order they
// read each other, over the other parameters and config_context, the pack config. A secret
// parameter's default sees the pack's secret config values; any other sees them masked, and
// sees secret parameters masked (registration refuses such a default anyway).
func (p *Pipeline) prepareST2(ctx context.Context, q *db.Queries, action attune.Action, given map[string]any) (prepared, error) {
	schema, err := p.renderDefaults(ctx, q, action, given)
	if err != nil {
		return prepared{}, fmt.Errorf("parameters of action %s: %w", action.Ref, err)
	}
	action.Parameters = schema
	return p.prepare(action, given)
}

// renderDefaults returns the action's schema with its templated defaults rendered for given.
func (p *Pipeline) renderDefaults(ctx context.Context, q *db.Queries, action attune.Action, given map[string]any) (attune.ParamSchema, error) {
	if !packs.TemplatedDefaults(action.Runtime) {
		return action.Parameters, nil
	}
	templated := map[string]string{}
	for name, spec := range action.Parameters {
		text, ok := spec.Default.(string)
		if v, isGiven := given[name]; ok && (!isGiven || v == nil) && rules.HasTemplate(text) &&
			!(action.Runtime == attune.RuntimeShellCmd && name == "cmd") {
			templated[name] = text
		}
	}
	if len(templated) == 0 {
		return action.Parameters, nil
	}
	// Sorted: the names are part of the compiled templates' cache key (rules.CheckDefault).
	names := slices.Sorted(maps.Keys(action.Parameters))
	vals := map[string]any{}
	for _, name := range names {
		spec := action.Parameters[name]
		vals[name] = spec.Default
		if v, ok := given[name]; ok && v != nil {
			vals[name] = v
		}
	}
	reads := map[string][]string{}
	for name, text := range templated {
		refs, err := rules.CheckDefault(text, names)
		if err != nil {
			return nil, fmt.Errorf("default of parameter %s: %w", name, err)
		}
		reads[name] = refs.Params
	}
	order, err := packs.DefaultOrder(reads)
	if err != nil {
		return nil, err
	}
	pack, err := q.Pack(ctx, action.PackRef)
	if err != nil {
		return nil, fmt.Errorf("pack of action %s: %w", action.Ref, err)
	}
	var opened map[string]any
	schema := maps.Clone(action.Parameters)
	for _, name := range order {
		env := maps.Clone(vals)
		env[rules.RootConfigContext] = pack.Config
		if action.Parameters[name].Secret {
			if opened == nil {
				if opened, _, err = p.openPackConfig(pack); err != nil {
					return nil, err
				}
			}
			env[rules.RootConfigContext] = opened
		} else {
			env = params.Redact(env, action.Parameters)
		}
		env[rules.RootActionContext] = map[string]any{"pack": action.PackRef, "action": action.Ref}
		v, err := rules.RenderDefault(name, templated[name], env)
		if err != nil {
			return nil, err
		}
		vals[name] = v
		spec := schema[name]
		spec.Default = v
		schema[name] = spec
	}
	return schema, nil
}
