package jobs_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
)

// A python action's self.action_service reaches the datastore over the worker's pipe, with no
// database credentials of its own: it sets a key (local: under "<pack>.<Class>:", as
// StackStorm names them), reads it back, reads a global one, lists and deletes; a secret of
// another pack is refused decrypted and masked otherwise; a user scope is refused as StackStorm
// refuses it.
func TestStackStormActionServiceDatastore(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	require.NoError(t, e.DB.InTx(ctx, func(q *db.Queries) error {
		if _, err := e.P.SetKey(ctx, q, jobs.KeyWrite{Name: "site", Value: "eu-1"}); err != nil {
			return err
		}
		_, err := e.P.SetKey(ctx, q, jobs.KeyWrite{Name: "other.token", Value: "n0t-y0urs", Secret: true})
		return err
	}))
	registerST2(t, e, map[string]string{
		"pack.yaml":          "ref: kvp\nname: kvp\nversion: 0.1.0\n",
		"actions/state.yaml": "name: state\npack: kvp\nrunner_type: python-script\nentry_point: state.py\n",
		"actions/state.py": `import os

from st2common.runners.base_action import Action


class State(Action):
    def run(self):
        svc = self.action_service
        out = {"before": svc.get_value("counter")}
        svc.set_value("counter", 41 + 1)
        svc.set_value("pw", "hunter2", encrypt=True)
        out["after"] = svc.get_value("counter")
        out["site"] = svc.get_value("site", local=False)
        out["pw"] = svc.get_value("pw", decrypt=True)
        out["other_masked"] = svc.get_value("other.token", local=False)
        try:
            svc.get_value("other.token", local=False, decrypt=True)
        except Exception as e:
            out["other_decrypt"] = str(e)
        try:
            svc.get_value("x", scope="user")
        except ValueError as e:
            out["user"] = str(e)
        out["listed"] = [(k.name, k.value) for k in svc.list_values()]
        out["deleted"] = svc.delete_value("pw")
        out["env"] = sorted(k for k in os.environ if "DATABASE" in k or "PG" in k)
        return out
`,
	})
	x, data := runST2(t, e, "kvp.state", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error+string(x.Result))
	res := data["result"].(map[string]any)
	require.Nil(t, res["before"])
	require.Equal(t, "42", res["after"])
	require.Equal(t, "eu-1", res["site"])
	require.Equal(t, "hunter2", res["pw"])
	require.Equal(t, "********", res["other_masked"])
	require.Contains(t, res["other_decrypt"], `get_value: key "other.token" is secret and not pack kvp's own (kvp.*)`)
	require.Equal(t, "Scope user is unsupported.", res["user"])
	require.Equal(t, []any{[]any{"kvp.State:counter", "42"}, []any{"kvp.State:pw", "********"}}, res["listed"])
	require.Equal(t, true, res["deleted"])
	require.Empty(t, res["env"])

	var counter string
	require.NoError(t, e.DB.InTx(ctx, func(q *db.Queries) error {
		k, err := e.P.GetKey(ctx, q, attune.ScopeSystem, "kvp.State:counter", false)
		counter = k.Value
		return err
	}))
	require.Equal(t, "42", counter)
}
