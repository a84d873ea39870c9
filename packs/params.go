package packs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/rules"
)

// checkActionParams checks a rule's literal action parameters against the schema of the action
// it runs, when that action is defined in this pack: types, bounds, enums, patterns, required
// parameters and unknown ones, each reported at its key. Values holding a template are checked
// when an event renders them. Rules running another pack's action are checked when the pack is
// registered, against that action's stored schema.
func (l *loader) checkActionParams(r attune.Rule, t target) {
	name, inPack := strings.CutPrefix(r.ActionRef, l.pack.Ref+".")
	if !inPack || len(l.defined["action "+name]) != 1 {
		return // another pack's action, or a duplicate ref (reported): no one schema to check against
	}
	for _, a := range l.pack.Actions {
		if a.Ref != r.ActionRef {
			continue
		}
		if err := rules.CheckSecretParams(r.ActionParams, a.Parameters); err != nil {
			t.paramsAt.errorAtField("action_params", err)
		}
		var fe params.FieldErrors
		if err := params.CheckLiteral(a.Parameters, r.ActionParams); !errors.As(err, &fe) {
			return // valid, or a schema problem already reported on the action
		}
		for _, e := range fe {
			t.paramsAt.errorAtField("action_params", fmt.Errorf("action_params.%s: %s (action %s)", e.Field, e.Msg, a.Ref))
		}
		return
	}
}
