package rules

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// bombEnv is an event whose payload holds a 20 KB string, s.
func bombEnv() Env {
	ev := attune.Event{ID: 1, TriggerRef: "t.t", Payload: map[string]any{"s": strings.Repeat("x", 20_000)}}
	return NewEnv(ev, attune.Rule{ID: 1, Ref: "p.r"}, nil, time.Unix(0, 0))
}

// Templates that would allocate far more than the expression budget fail cleanly, with a reason
// naming the budget, before they allocate: each of these produces a few tens of MB in total, a
// factor of a million smaller than the 20 GB `repeat(s, 1000000)` that killed replicas.
func TestRender_ExpressionBudget(t *testing.T) {
	t.Parallel()

	for _, tmpl := range []string{
		`{{ len(repeat(event.payload.s, 1000)) }}`,
		`{{ len(map(1..2000, repeat(event.payload.s, 1))) }}`,
		`{{ len(reduce(1..300, #acc + event.payload.s, "")) }}`,
		`{{ len(join(map(1..1000, ""), event.payload.s)) }}`,
		`{{ len(replace(repeat("a", 1000), "a", event.payload.s)) }}`,
		`{{ len(toJSON(map(1..1000, event.payload.s))) }}`,
		`{{ len(map(1..1000, upper(event.payload.s))) }}`,
		`{{ len(map(1..1000, system.now.Format(event.payload.s))) }}`,
		`{{ len(map(1..1000, string(event.payload))) }}`,
	} {
		t.Run(tmpl, func(t *testing.T) {
			t.Parallel()
			_, err := Render(map[string]any{"n": tmpl}, bombEnv())
			require.Error(t, err)
			require.Contains(t, err.Error(), "action_params.n: template")
			require.Contains(t, err.Error(), "expression budget")
		})
	}
}

// The bomb's error says what it would have produced; the size is computed from the arguments,
// before anything is allocated. (The bomb repeats a million times; the test a thousand,
// so that it allocates nothing worth mentioning on code without the check.)
func TestRender_RepeatBombIsRefused(t *testing.T) {
	t.Parallel()
	_, err := Render(map[string]any{"n": `{{ repeat(event.payload.s, 1000) }}`}, bombEnv())
	require.ErrorContains(t, err, "repeat would produce 20000000 bytes")
}

// Rendered action parameters are bounded, whole templates and interpolated ones alike.
func TestRender_OutputLimit(t *testing.T) {
	t.Parallel()

	for _, params := range []map[string]any{
		{"list": "{{ map(1..200, event.payload.s) }}"},
		{"text": "all: {{ map(1..200, event.payload.s) }}"},
		{"a": "{{ event.payload.s }}", "b": map[string]any{"c": []any{strings.Repeat("{{ event.payload.s }}", 120)}}},
	} {
		_, err := Render(params, bombEnv())
		require.ErrorContains(t, err, "larger than the 2 MiB limit")
	}
}

// What fits is rendered as before: budgets bound bombs, not ordinary use.
func TestRender_WithinBudget(t *testing.T) {
	t.Parallel()
	out, err := Render(map[string]any{
		"copy":  "{{ event.payload }}",
		"twice": "{{ repeat(event.payload.s, 2) + '!' }}",
		"n":     "{{ 1 + 2 }}",
		"at":    "{{ system.now + duration('1h') }}",
		"json":  "{{ len(toJSON(event.payload)) }}",
	}, bombEnv())
	require.NoError(t, err)
	require.Len(t, out["twice"], 40_001)
	require.EqualValues(t, 3, out["n"])
	require.Equal(t, "1970-01-01T01:00:00Z", out["at"])
	require.EqualValues(t, 20_013, out["json"])
}

// A criteria expression over budget is an error naming the budget, not a silent no-match.
func TestMatch_ExpressionBudget(t *testing.T) {
	t.Parallel()
	crit, err := CompileCriteria(json.RawMessage(`{"expression": "len(repeat(event.payload.s, 1000)) > 0"}`))
	require.NoError(t, err)
	_, err = crit.Match(bombEnv())
	require.ErrorContains(t, err, "expression budget")
}

// Nested loops over a payload's lists are bounded too: they allocate nothing, but would run for
// hours on a large list.
func TestRender_IterationBudget(t *testing.T) {
	t.Parallel()
	list := make([]any, 5000)
	for i := range list {
		list[i] = i
	}
	env := NewEnv(attune.Event{ID: 1, Payload: map[string]any{"l": list}}, attune.Rule{ID: 1, Ref: "p.r"}, nil, time.Unix(0, 0))
	_, err := Render(map[string]any{"n": "{{ all(event.payload.l, {all(event.payload.l, {# >= 0})}) }}"}, env)
	require.ErrorContains(t, err, "all would visit 5000 more items, over what is left of the iteration budget")

	out, err := Render(map[string]any{"n": "{{ len(filter(event.payload.l, {# % 2 == 0})) }}"}, env)
	require.NoError(t, err)
	require.EqualValues(t, 2500, out["n"])
}
