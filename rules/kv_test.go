package rules

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// memKV is a datastore in memory that counts its lookups.
type memKV struct {
	keys    map[string]string // "scope.name" -> value
	secrets map[string]string
	lookups int
}

func (m *memKV) LookupKey(scope, name string) (string, bool, bool, error) {
	m.lookups++
	if _, ok := m.secrets[scope+"."+name]; ok {
		return "", true, true, nil
	}
	v, ok := m.keys[scope+"."+name]
	return v, false, ok, nil
}

func (m *memKV) DecryptKey(scope, name string) (string, error) {
	return m.secrets[scope+"."+name], nil
}

func kvEnv(m *memKV) Env {
	ev := attune.Event{ID: 1, TriggerRef: "mon.alert", Payload: map[string]any{"host": "db-01"}}
	return NewEnv(ev, attune.Rule{Ref: "mon.r"}, nil, testNow).WithKV(m)
}

func newMemKV() *memKV {
	return &memKV{
		keys: map[string]string{
			"system.region": "eu-west", "system.done_db-01": "2026-01-01T00:00:00Z",
			"user:alice.color": "blue", "system.cfg": `{"n": 3}`,
		},
		secrets: map[string]string{"system.pw": "hunter2"},
	}
}

func TestKVTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl    string
		want    any
		wantErr string
	}{
		{tmpl: "{{ st2kv.system.region }}", want: "eu-west"},
		{tmpl: "{{ kv.system.region }}", want: "eu-west"},
		{tmpl: "at {{ st2kv.system.region }}", want: "at eu-west"},
		{tmpl: "{{ st2kv.user.alice.color }}", want: "blue"},
		{tmpl: `{{ st2kv.system["done_" + event.payload.host] }}`, want: "2026-01-01T00:00:00Z"},
		{tmpl: "{{ fromJSON(st2kv.system.cfg).n }}", want: float64(3)},
		{tmpl: "{{ st2kv.system.nope ?? 'none' }}", want: "none"},
		{tmpl: "{{ st2kv.system.nope }}", wantErr: "st2kv.system.nope is missing; write `st2kv.system.nope ?? fallback`"},
		{tmpl: "{{ st2kv.system.pw | decrypt_kv }}", want: "hunter2"},
		{tmpl: "{{ decrypt_kv(kv.system.pw) }}", want: "hunter2"},
		{tmpl: "Bearer {{ st2kv.system.pw | decrypt_kv() }}", want: "Bearer hunter2"},
		{tmpl: "{{ st2kv.system.pw }}", wantErr: "key system.pw is secret: write decrypt_kv(st2kv.system.pw) into a parameter marked secret: true"},
		{tmpl: "{{ decrypt_kv(st2kv.system.region) }}", wantErr: `decrypt_kv: "eu-west" is not a secret key`},
		{tmpl: "{{ st2kv.system }}", wantErr: "st2kv.system is a scope, not a value"},
		{tmpl: "{{ st2kv.global.x }}", wantErr: "the datastore has scopes system and user"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			out, err := Render(map[string]any{"p": tt.tmpl}, kvEnv(newMemKV()))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, out["p"])
		})
	}
}

func TestKVLooksUpLazilyOncePerKey(t *testing.T) {
	t.Parallel()
	m := newMemKV()
	env := kvEnv(m)
	_, err := Render(map[string]any{"a": "{{ st2kv.system.region }}", "b": "{{ kv.system.region }}-{{ st2kv.system.region }}"}, env)
	require.NoError(t, err)
	require.Equal(t, 1, m.lookups, "one key read once per Env, whatever its spelling, and nothing else read")
}

func TestKVInCriteriaExpression(t *testing.T) {
	t.Parallel()
	crit, err := CompileCriteria(json.RawMessage(`{"expression": "st2kv.system[\"done_\" + event.payload.host] == nil"}`))
	require.NoError(t, err)

	m := newMemKV()
	out, err := crit.Match(kvEnv(m))
	require.NoError(t, err)
	require.False(t, out.Matched, "the key is set: already remediated")

	delete(m.keys, "system.done_db-01") // missing or expired
	out, err = crit.Match(kvEnv(m))
	require.NoError(t, err)
	require.True(t, out.Matched, out.Reason)

	crit, err = CompileCriteria(json.RawMessage(`{"expression": "kv.system.region == 'eu-west' and st2kv.system.nope == nil"}`))
	require.NoError(t, err)
	out, err = crit.Match(kvEnv(m))
	require.NoError(t, err)
	require.True(t, out.Matched, out.Reason)
}

func TestKVInCriteriaPattern(t *testing.T) {
	t.Parallel()
	crit, err := CompileCriteria(json.RawMessage(`{"trigger.host": {"type": "equals", "pattern": "{{ st2kv.system.expected }}"}}`))
	require.NoError(t, err)
	m := newMemKV()

	out, err := crit.Match(kvEnv(m))
	require.NoError(t, err)
	require.False(t, out.Matched)
	require.Contains(t, out.Reason, "the pattern reads nothing (a missing key)")

	m.keys["system.expected"] = "db-01"
	out, err = crit.Match(kvEnv(m))
	require.NoError(t, err)
	require.True(t, out.Matched, out.Reason)

	m.keys["system.expected"] = "db-02"
	out, err = crit.Match(kvEnv(m))
	require.NoError(t, err)
	require.False(t, out.Matched)
	require.Contains(t, out.Reason, `saw "db-01"`)

	_, err = CompileCriteria(json.RawMessage(`{"trigger.host": {"type": "equals", "pattern": "{{ st2kv.system. }}"}}`))
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, `criteria["trigger.host"].pattern`)
}

func TestCheckSecretParams(t *testing.T) {
	t.Parallel()
	schema := attune.ParamSchema{"token": {Type: "string", Secret: true}, "message": {Type: "string"}}

	require.NoError(t, CheckSecretParams(map[string]any{
		"token": "{{ st2kv.system.pw | decrypt_kv }}", "message": "{{ st2kv.system.region }}",
	}, schema))

	err := CheckSecretParams(map[string]any{"message": "pw is {{ decrypt_kv(st2kv.system.pw) }}"}, schema)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, `action_params.message: decrypts a secret key with decrypt_kv, but the action's parameter "message" is not marked secret: true`)

	err = CheckSecretParams(map[string]any{"nested": map[string]any{"x": []any{"{{ st2kv.system.pw | decrypt_kv }}"}}}, schema)
	require.ErrorContains(t, err, `parameter "nested" is not marked secret`)
}
