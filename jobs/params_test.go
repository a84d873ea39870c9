package jobs_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/packs"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/secrets"
)

// paramsPack has an action with a bounded, required integer and a defaulted enum, and a rule
// that renders the integer from the event.
var paramsPack = map[string]string{
	"pack.yaml":       "ref: pv\nversion: 1.0.0\n",
	"triggers/t.yaml": "ref: t\n",
	"actions/wait.yaml": `ref: wait
runner_type: noop
parameters:
  seconds: {type: integer, required: true, maximum: 10}
  mode: {type: string, enum: [fast, slow], default: fast}
`,
	"rules/on_t.yaml": `ref: on_t
trigger_ref: t
action_ref: wait
action_params:
  seconds: "{{ event.payload.n }}"
`,
}

func registerPack(t *testing.T, e *attunetest.Env, files map[string]string) {
	t.Helper()
	p, err := packs.LoadDir(attunetest.WritePack(t, files), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(context.Background(), p)
	require.NoError(t, err)
}

func countRows(t *testing.T, e *attunetest.Env, table string) int {
	t.Helper()
	var n int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM attune."+table).Scan(&n))
	return n
}

// attune run's entry point: defaults are applied and delivered; every field error is reported
// at once, typed, and nothing is written.
func TestRunValidatesParameters(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, paramsPack)

	x, err := e.P.Run(ctx, "pv.wait", map[string]any{"seconds": 3}, 0)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"seconds": 3.0, "mode": "fast"}, x.Parameters, "the default is stored")
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status)
	require.Equal(t, map[string]any{"seconds": 3.0, "mode": "fast"}, result(t, x)["data"], "and delivered")

	before := countRows(t, e, "execution")
	_, err = e.P.Run(ctx, "pv.wait", map[string]any{"seconds": 50, "mode": "medium", "colour": "red"}, 0)
	require.ErrorIs(t, err, attune.ErrInvalid)
	var fe params.FieldErrors
	require.ErrorAs(t, err, &fe)
	require.Equal(t, params.FieldErrors{
		{Field: "colour", Msg: "unknown parameter (known: mode, seconds)"},
		{Field: "mode", Msg: `must be one of "fast", "slow", got "medium"`},
		{Field: "seconds", Msg: "must be <= 10, got 50"},
	}, fe)
	require.ErrorContains(t, err, "parameters of action pv.wait: ")

	_, err = e.P.Run(ctx, "pv.wait", nil, 0)
	require.EqualError(t, err, "parameters of action pv.wait: seconds: required")
	_, err = e.P.Run(ctx, "pv.wait", map[string]any{"seconds": "3"}, 0)
	require.EqualError(t, err, `parameters of action pv.wait: seconds: must be an integer, got "3"`, "no coercion past the command line")
	require.Equal(t, before, countRows(t, e, "execution"), "no execution for invalid parameters")
}

// The enforcement entry point: parameters are checked after rendering; an invalid set fails
// the enforcement with the reason and creates no execution.
func TestEnforceValidatesRenderedParameters(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, paramsPack)

	enforce := func(payload map[string]any) (attune.Enforcement, []attune.Execution) {
		t.Helper()
		ev, err := e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "pv.t", Payload: payload})
		require.NoError(t, err)
		var enfs []attune.Enforcement
		require.Eventually(t, func() bool {
			enfs, err = e.DB.AutoCommit().EnforcementsByEvent(ctx, ev.ID)
			require.NoError(t, err)
			return len(enfs) == 1
		}, 10*time.Second, 20*time.Millisecond)
		xs, err := e.DB.AutoCommit().ExecutionsByEvent(ctx, ev.ID)
		require.NoError(t, err)
		return enfs[0], xs
	}

	tests := []struct {
		name    string
		payload map[string]any
		reason  string // "" when it runs
	}{
		{name: "in range runs with the default applied", payload: map[string]any{"n": 4}},
		{name: "out of range", payload: map[string]any{"n": 50}, reason: "parameters of action pv.wait: seconds: must be <= 10, got 50"},
		{name: "mistyped", payload: map[string]any{"n": "four"}, reason: `parameters of action pv.wait: seconds: must be an integer, got "four"`},
		{name: "null counts as not given: required", payload: map[string]any{"n": nil}, reason: "parameters of action pv.wait: seconds: required"},
	}
	for _, tt := range tests {
		enf, xs := enforce(tt.payload)
		if tt.reason == "" {
			require.Equal(t, attune.EnforcementProcessed, enf.Status, tt.name)
			require.Equal(t, map[string]any{"seconds": 4.0, "mode": "fast"}, enf.Parameters, tt.name)
			require.Len(t, xs, 1, tt.name)
			require.Equal(t, map[string]any{"seconds": 4.0, "mode": "fast"}, xs[0].Parameters, tt.name)
			continue
		}
		require.Equal(t, attune.EnforcementFailed, enf.Status, tt.name)
		require.Equal(t, tt.reason, enf.Reason, tt.name)
		require.Empty(t, xs, "%s: no execution", tt.name)
	}
}

// Rule registration: literal values are checked against the action's stored schema, also for
// another pack's action, and a bad one changes nothing.
func TestRegisterPackChecksLiteralActionParams(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	files := map[string]string{
		"pack.yaml": "ref: lit\nversion: 1.0.0\n",
		"rules/slow.yaml": `ref: slow
trigger_ref: core.intervaltimer
trigger_params: {interval: 1, unit: hours}
action_ref: core.sleep
action_params: {seconds: 5000, colour: red, message: "{{ event.payload.count }}"}
`,
	}
	p, err := packs.LoadDir(attunetest.WritePack(t, files), time.Now())
	require.NoError(t, err, "the loader leaves another pack's action to the registrar")
	_, err = e.Registry.RegisterPack(ctx, p)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.EqualError(t, err, "rule lit.slow: action_params do not fit action core.sleep: "+
		"colour: unknown parameter (known: message, seconds); seconds: must be <= 3600, got 5000")
	_, err = e.DB.AutoCommit().Pack(ctx, "lit")
	require.ErrorIs(t, err, attune.ErrNotFound, "nothing was registered")
	require.Zero(t, countRows(t, e, "timer"))

	files["rules/slow.yaml"] = "ref: slow\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 1, unit: hours}\naction_ref: core.sleep\naction_params: {seconds: 5}\n"
	registerPack(t, e, files)
}

// An action given a secret needs secrets.key; without one it is refused with a message saying
// how to make a key. A secret parameter left out needs no key.
func TestSecretWithoutKeyIsRefused(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoSecretsKey: true})
	ctx := context.Background()
	registerPack(t, e, map[string]string{
		"pack.yaml": "ref: nk\nversion: 1.0.0\n",
		"actions/login.yaml": `ref: login
runner_type: noop
parameters:
  user: {type: string}
  password: {type: string, secret: true}
`,
	})
	_, err := e.P.Run(ctx, "nk.login", map[string]any{"user": "bob", "password": "pw-no-key"}, 0)
	require.Error(t, err)
	require.ErrorContains(t, err, "action nk.login has secret parameters (password): secrets.key is not set")
	require.ErrorContains(t, err, "head -c32 /dev/urandom | base64")
	require.NotContains(t, err.Error(), "pw-no-key")
	require.Zero(t, countRows(t, e, "execution"))

	x, err := e.P.Run(ctx, "nk.login", map[string]any{"user": "bob"}, 0)
	require.NoError(t, err)
	require.Equal(t, attune.StatusCompleted, e.WaitTerminal(t, x.ID, 10*time.Second).Status)
}

// A worker whose secrets.key differs from the one that sealed an execution's secrets fails the
// execution, saying so, rather than running the action without them.
func TestSecretSealedUnderAnotherKeyFailsTheExecution(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	registerPack(t, e, map[string]string{
		"pack.yaml":          "ref: ok\nversion: 1.0.0\n",
		"actions/login.yaml": "ref: login\nrunner_type: noop\nparameters: {password: {type: string, secret: true}}\n",
	})
	x, err := e.P.Run(ctx, "ok.login", map[string]any{"password": "pw"}, 0)
	require.NoError(t, err)
	key := make([]byte, secrets.KeySize)
	_, err = rand.Read(key)
	require.NoError(t, err)
	e.P.Secrets, err = secrets.NewBox(key) // another key; nothing runs yet
	require.NoError(t, err)
	require.NoError(t, e.River.Start(ctx))
	t.Cleanup(func() { _ = e.River.Stop(context.WithoutCancel(ctx)) })
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Contains(t, x.Error, "sealed under another key")
	require.Contains(t, x.Error, "every replica needs the same secrets.key")
}

func TestFieldErrorsUnwrapToInvalid(t *testing.T) {
	t.Parallel()
	err := error(params.FieldErrors{{Field: "a", Msg: "required"}})
	require.True(t, errors.Is(err, attune.ErrInvalid))
	require.EqualError(t, err, "a: required")
}
