package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/packs"
	"github.com/attune-run/attune/secrets"
)

func setKey(t *testing.T, e *attunetest.Env, w jobs.KeyWrite) (attune.Key, error) {
	t.Helper()
	var k attune.Key
	err := e.DB.InTx(context.Background(), func(q *db.Queries) error {
		var err error
		k, err = e.P.SetKey(context.Background(), q, w)
		return err
	})
	return k, err
}

// Bad input is refused with a clear error, and nothing is stored.
func TestSetKeyRefusesBadInput(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true, NoSecretsKey: true})
	tests := []struct {
		w    jobs.KeyWrite
		want string
	}{
		{jobs.KeyWrite{Name: "has space", Value: "x"}, `key name "has space" has ' ' at byte 3`},
		{jobs.KeyWrite{Name: "a/b", Value: "x"}, `key name "a/b" has '/' at byte 1`},
		{jobs.KeyWrite{Name: "big", Value: strings.Repeat("x", attune.MaxKeyValue+1)}, "value is 1048577 bytes; a key holds at most 1048576 (1 MiB)"},
		{jobs.KeyWrite{Name: "neg", Value: "x", TTL: -time.Minute}, "ttl -1m0s is negative"},
		{jobs.KeyWrite{Name: "sc", Value: "x", Scope: "global"}, `scope "global": want "system" or "user:"`},
		{jobs.KeyWrite{Name: "pw", Value: "x", Secret: true}, "secrets.key is not set"},
	}
	for _, tt := range tests {
		_, err := setKey(t, e, tt.w)
		require.ErrorContains(t, err, tt.want)
		if !strings.Contains(tt.want, "secrets.key") {
			require.ErrorIs(t, err, attune.ErrInvalid)
		} else {
			require.ErrorIs(t, err, secrets.ErrNoKey)
		}
	}
	require.Zero(t, countRows(t, e, "kv"), "nothing stored")

	_, err := e.P.GetKey(context.Background(), e.DB.AutoCommit(), "", "pw", true)
	require.ErrorIs(t, err, secrets.ErrNoKey, "--decrypt without secrets.key")
}

// A secret key is sealed at rest, shown as nothing unless decrypted, and an expired key reads
// as missing at once and is deleted by the retention job.
func TestKeysSecretAndExpiry(t *testing.T) {
	t.Parallel()
	now := time.Now()
	e := attunetest.New(t, attunetest.Options{NoStart: true, Now: func() time.Time { return now }})
	ctx := context.Background()

	_, err := setKey(t, e, jobs.KeyWrite{Name: "pw", Value: "hunter2-secret", Secret: true})
	require.NoError(t, err)
	require.NotContains(t, tableText(t, e, "kv"), "hunter2-secret", "sealed at rest")
	k, err := e.P.GetKey(ctx, e.DB.AutoCommit(), "", "pw", false)
	require.NoError(t, err)
	require.True(t, k.Secret)
	require.Empty(t, k.Value)
	k, err = e.P.GetKey(ctx, e.DB.AutoCommit(), "", "pw", true)
	require.NoError(t, err)
	require.Equal(t, "hunter2-secret", k.Value)

	_, err = setKey(t, e, jobs.KeyWrite{Name: "done_db-01", Value: "1", TTL: time.Hour})
	require.NoError(t, err)
	_, err = setKey(t, e, jobs.KeyWrite{Name: "keep", Value: "1", Scope: "user:alice"})
	require.NoError(t, err)
	_, err = e.P.GetKey(ctx, e.DB.AutoCommit(), "", "done_db-01", false)
	require.NoError(t, err)

	now = now.Add(time.Hour + time.Second)
	_, err = e.P.GetKey(ctx, e.DB.AutoCommit(), "", "done_db-01", false)
	require.ErrorIs(t, err, attune.ErrNotFound, "expired: missing at once, before it is swept")
	ks, err := e.DB.AutoCommit().Keys(ctx, "", "", now)
	require.NoError(t, err)
	require.Len(t, ks, 2)
	require.Equal(t, 3, countRows(t, e, "kv"), "still stored until the retention job runs")

	w := &jobs.PruneWorker{P: e.P, Retention: 24 * time.Hour}
	require.NoError(t, w.Work(ctx, nil))
	require.Equal(t, 2, countRows(t, e, "kv"), "the retention job deleted the expired key")
}

// "Don't remediate twice": a rule whose criteria check that a key is missing, and whose action
// sets it with a TTL. Two events for the same host run one execution; another host runs its own.
func TestDontRemediateTwice(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, map[string]string{
		"pack.yaml":          "ref: mon\nversion: 1.0.0\n",
		"triggers/down.yaml": "ref: down\n",
		"rules/remediate.yaml": `name: remediate
pack: mon
enabled: true
trigger: {type: mon.down}
criteria:
  expression: 'st2kv.system["remediated_" + trigger.host] == nil'
action:
  ref: core.kv_set
  parameters:
    name: "remediated_{{ trigger.host }}"
    value: "event {{ event.id }}"
    ttl: 3600
`,
	})
	run := func(host string) []attune.Execution {
		ev, err := e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "mon.down", Payload: map[string]any{"host": host}})
		require.NoError(t, err)
		var xs []attune.Execution
		require.Eventually(t, func() bool {
			outs, err := e.DB.AutoCommit().RuleOutcomesByEvent(ctx, ev.ID)
			require.NoError(t, err)
			xs, err = e.DB.AutoCommit().ExecutionsByEvent(ctx, ev.ID)
			require.NoError(t, err)
			return len(outs) == 1 && (len(xs) == 0 || xs[0].Status.Terminal())
		}, 10*time.Second, 20*time.Millisecond)
		return xs
	}
	first := run("db-01")
	require.Len(t, first, 1)
	require.Equal(t, attune.StatusCompleted, first[0].Status, first[0].Error)
	require.Empty(t, run("db-01"), "the key is set: the second event does not remediate again")
	require.Len(t, run("db-02"), 1, "another host is remediated")

	k, err := e.P.GetKey(ctx, e.DB.AutoCommit(), "", "remediated_db-01", false)
	require.NoError(t, err)
	require.NotNil(t, k.ExpiresAt)
	require.WithinDuration(t, time.Now().Add(time.Hour), *k.ExpiresAt, time.Minute)
}

// A secret key reaches an action only through a secret parameter, stored redacted; a rule that
// would decrypt into a plain parameter is refused at registration, and, should the action change
// under it, its enforcement fails with the reason.
func TestSecretKeyOnlyThroughSecretParameter(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	_, err := setKey(t, e, jobs.KeyWrite{Name: "api_token", Value: "tok-s3cret-value", Secret: true})
	require.NoError(t, err)
	files := map[string]string{
		"pack.yaml":       "ref: sec\nversion: 1.0.0\n",
		"triggers/t.yaml": "ref: t\n",
		"actions/call.yaml": `ref: call
runner_type: noop
parameters:
  token: {type: string, secret: true}
  note: {type: string}
`,
		"rules/r.yaml": `ref: r
trigger_ref: t
action_ref: call
action_params:
  token: "{{ st2kv.system.api_token | decrypt_kv }}"
  note: "{{ st2kv.system.api_token == nil ? 'none' : 'set' }}"
`,
	}
	registerPack(t, e, files)
	ev, err := e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "sec.t", Payload: map[string]any{}})
	require.NoError(t, err)
	var xs []attune.Execution
	require.Eventually(t, func() bool {
		xs, err = e.DB.AutoCommit().ExecutionsByEvent(ctx, ev.ID)
		require.NoError(t, err)
		return len(xs) == 1 && xs[0].Status.Terminal()
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, attune.StatusCompleted, xs[0].Status, xs[0].Error)
	require.Equal(t, "********", xs[0].Parameters["token"])
	require.Equal(t, "set", xs[0].Parameters["note"])
	for _, table := range []string{"execution", "enforcement", "kv"} {
		require.NotContains(t, tableText(t, e, table), "tok-s3cret-value", table)
	}

	// The same rule aimed at a parameter not marked secret: refused at registration.
	bad := map[string]string{}
	for k, v := range files {
		bad[k] = v
	}
	bad["rules/r.yaml"] = strings.Replace(files["rules/r.yaml"], "  note: \"{{ st2kv.system.api_token == nil ? 'none' : 'set' }}\"", "  note: \"{{ decrypt_kv(st2kv.system.api_token) }}\"", 1)
	p, err := packsLoad(t, bad)
	require.ErrorContains(t, err, `action_params.note: decrypts a secret key with decrypt_kv, but the action's parameter "note" is not marked secret: true`)
	require.Nil(t, p)

	// At run time, against the action as it is now: the enforcement fails, nothing runs.
	rule, err := e.DB.AutoCommit().Rule(ctx, "sec.r")
	require.NoError(t, err)
	rule.ActionParams["note"] = "{{ decrypt_kv(st2kv.system.api_token) }}"
	ev2, err := e.DB.AutoCommit().EventInsert(ctx, db.NewEvent{TriggerRef: "sec.t", Payload: map[string]any{}})
	require.NoError(t, err)
	var res jobs.EnforceResult
	require.NoError(t, e.DB.InTx(ctx, func(q *db.Queries) error {
		res, err = e.P.Enforce(ctx, q, ev2, rule)
		return err
	}))
	require.Nil(t, res.Execution)
	require.Equal(t, attune.EnforcementFailed, res.Enforcement.Status)
	require.Contains(t, res.Enforcement.Reason, `parameter "note" is not marked secret: true`)
}

func packsLoad(t *testing.T, files map[string]string) (*attune.Pack, error) {
	t.Helper()
	return packs.LoadDir(attunetest.WritePack(t, files), time.Now())
}
