package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// expression compiles src as a value in a one-task workflow, failing the test on problems.
func expression(t *testing.T, src string) *Value {
	t.Helper()
	w := parse(t, "version: 1.0\ntasks:\n  a:\n    input:\n      v: '"+strings.ReplaceAll(src, "'", "''")+"'\n")
	return w.Tasks["a"].Input["v"]
}

// fullEnv has something for every function to read.
func fullEnv() *Env {
	start := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	return &Env{
		Ctx:        map[string]any{"name": "ann", "n": 2.0, "list": []any{map[string]any{"x": 1.0}, map[string]any{"x": 2.0}}, "text": `{"a": [1, 2]}`, "flag": false},
		Result:     map[string]any{"stdout": "hello", "return_code": 0.0},
		TaskStatus: "failed",
		Item:       map[string]any{"host": "h1", "port": 22.0},
		Task: func(name string) (TaskState, bool) {
			if name != "build" {
				return TaskState{}, false
			}
			return TaskState{Status: "succeeded", Result: map[string]any{"ok": true}, StartTimestamp: &start}, true
		},
		KV: func(scope, name string) (string, bool, error) {
			if scope == "system" && name == "region" {
				return "eu", true, nil
			}
			if scope == "user:alice" && name == "team" {
				return "ops", true, nil
			}
			return "", false, nil
		},
	}
}

// Every function and operator of the YAQL subset, and the same functions in {{ }}.
func TestExpressionFunctions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src  string
		want any
	}{
		{"<% ctx() %>", fullEnv().Ctx},
		{"<% ctx(name) %>", "ann"},
		{"<% ctx('name') %>", "ann"},
		{"<% ctx().name %>", "ann"},
		{"<% $.name %>", "ann"},
		{"<% ctx().missing %>", nil},
		{"<% ctx().list[1].x %>", 2.0},
		{"<% ctx().list[0]['x'] %>", 1.0},
		{"<% result().stdout %>", "hello"},
		{"<% succeeded() %>", false},
		{"<% failed() %>", true},
		{"<% completed() %>", true},
		{"<% item() %>", map[string]any{"host": "h1", "port": 22.0}},
		{"<% item(host) %>", "h1"},
		{"<% task(build).status %>", "succeeded"},
		{"<% task('build').result.ok %>", true},
		{"<% task(build).start_timestamp %>", "2026-11-30T06:00:00Z"},
		{"<% task(build).end_timestamp %>", nil},
		{"<% json(ctx().text).a[1] %>", 2.0},
		{"<% zip([1, 2, 3], ['a', 'b']) %>", []any{[]any{1, "a"}, []any{2, "b"}}},
		{"<% len(ctx().list) %>", 2},
		{"<% str(ctx().n) %>", "2"},
		{"<% str(null) %>", "null"},
		{"<% str(ctx().list[0]) %>", `{"x":1}`},
		{"<% st2kv('system.region') %>", "eu"},
		{"<% kv('system.region') %>", "eu"},
		{"<% st2kv('user.alice.team') %>", "ops"},
		{"<% 7 / 2 %>", 3.5},
		{"<% ctx().list.select($.x) %>", []any{1.0, 2.0}},
		{"<% ctx().list.select($.x * 10) %>", []any{10.0, 20.0}},
		{"<% ctx(n) = 2 %>", true},
		{"<% ctx(n) != 2 %>", false},
		{"<% ctx(n) < 3 and ctx(n) >= 2 %>", true},
		{"<% ctx(n) > 3 or not ctx(flag) %>", true},
		{"<% ctx(n) <= 1 %>", false},
		{"<% ctx(n) + 1 %>", 3.0},
		{"<% (ctx(n) - 1) * 4 / 2 %>", 2.0},
		{"<% 7 mod 4 %>", 3},
		{"<% -ctx(n) %>", -2.0},
		{"<% 'hello ' + ctx(name) %>", "hello ann"},
		{"<% ctx(name) + '-' + str(ctx(n)) %>", "ann-2"},
		{"<% true and null = null %>", true},
		{"<% ctx().missing or 'none' %>", "none"},
		{"<% ctx(name) or 'none' %>", "ann"},
		{"<% ctx().list and ctx(name) %>", "ann"},
		{"<% ctx(flag) and ctx(name) %>", false},
		{"<% not ctx().list %>", false},
		{"<% not ctx().missing and ctx(n) %>", 2.0},
		{"<% ctx(flag) or ctx().missing or 0 %>", 0},
		{"<% bool(ctx().list) %>", true},
		{"{{ bool('') }}", false},
		{"{{ ctx('name') }}", "ann"},
		{"{{ ctx().list[1].x }}", 2.0},
		{"{{ _.name }}", "ann"},
		{"{{ result().stdout | upper }}", "HELLO"},
		{"{{ failed() and not succeeded() }}", true},
		{"{{ item('port') }}", 22.0},
		{"{{ task('build').status }}", "succeeded"},
		{"{{ json(ctx().text).a }}", []any{1.0, 2.0}},
		{"{{ zip([1], [2]) }}", []any{[]any{1, 2}}},
		{"{{ str(3.5) }}", "3.5"},
		{"{{ st2kv('system.region') }}", "eu"},
		{"{{ map(ctx().list, #.x) }}", []any{1.0, 2.0}},
		{`{{ split("a,b", ",") }}`, []any{"a", "b"}},
		{`{{ date("2026-11-30T06:00:00Z") }}`, "2026-11-30T06:00:00Z"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, render(t, expression(t, tc.src), fullEnv()))
		})
	}
}

// A string that is one expression keeps the expression's type; text mixed with several
// expressions, of either form, is interpolated.
func TestRenderInterpolates(t *testing.T) {
	t.Parallel()
	env := fullEnv()
	require.Equal(t, 2.0, render(t, expression(t, "  <% ctx(n) %> "), env))
	require.Equal(t, "ann has 2 items: [1,2] (hello)",
		render(t, expression(t, "<% ctx(name) %> has {{ len(ctx().list) }} items: <% ctx().list.select($.x) %> (<% result().stdout %>)"), env))
	require.Equal(t, "nil is [], false is false", render(t, expression(t, "nil is [<% ctx().missing %>], false is <% ctx(flag) %>"), env))
	require.Equal(t, "no expressions", render(t, expression(t, "no expressions"), env))

	w := parse(t, `version: 1.0
tasks:
  a:
    input:
      nested: {list: ["<% ctx(name) %>", 1, {k: "x <% ctx(n) %>"}], plain: [1, 2]}
`)
	require.Equal(t, map[string]any{"list": []any{"ann", 1.0, map[string]any{"k": "x 2"}}, "plain": []any{1.0, 2.0}},
		render(t, w.Tasks["a"].Input["nested"], env))

	first := render(t, w.Tasks["a"].Input["nested"], env).(map[string]any)
	first["plain"].([]any)[0] = "changed"
	require.Equal(t, []any{1.0, 2.0}, render(t, w.Tasks["a"].Input["nested"], env).(map[string]any)["plain"],
		"a rendered value shares nothing with the workflow")
	var none *Value
	require.Nil(t, render(t, none, env))
}

// Truth as Orquesta reads it: nothing, false, zero, "" and empty collections are false.
func TestExprTrue(t *testing.T) {
	t.Parallel()
	w := parse(t, "version: 1.0\ntasks:\n  a:\n    next:\n      - when: <% ctx().v %>\n")
	when := w.Tasks["a"].Next[0].When
	for _, tc := range []struct {
		v    any
		want bool
	}{
		{nil, false}, {false, false}, {0.0, false}, {"", false}, {[]any{}, false}, {map[string]any{}, false},
		{true, true}, {1.0, true}, {"no", true}, {[]any{0.0}, true}, {map[string]any{"a": nil}, true},
	} {
		got, err := when.True(&Env{Ctx: map[string]any{"v": tc.v}})
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%#v", tc.v)
	}
}

// An evaluation error names the expression and where it is written.
func TestEvalErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, want string }{
		{"<% ctx(nope) %>", `line 5, column 11: <% ctx(nope) %>: ctx(nope): no variable "nope" in the context; it has flag, list, n, name, text`},
		{"{{ ctx().nope }}", "line 5, column 11: {{ ctx().nope }}: ctx(…).nope is missing; supply a default with `?? fallback`"},
		{"<% item(nope) %>", `line 5, column 11: <% item(nope) %>: item(nope): with-items has no variable "nope"; it has host, port`},
		{"<% task(nope) %>", `line 5, column 11: <% task(nope) %>: task(nope): task "nope" has not run in this workflow`},
		{"<% json('{') %>", `line 5, column 11: <% json('{') %>: json(s): unexpected end of JSON input`},
		{"<% kv('region') %>", `line 5, column 11: <% kv('region') %>: kv("region"): write the key with its scope, such as kv('system.region')`},
		{"<% 1 / 0 %>", `line 5, column 11: <% 1 / 0 %>: +Inf is not a JSON number`},
		{"<% st2kv('system.gone') %>", `line 5, column 11: <% st2kv('system.gone') %>: st2kv("system.gone"): no such key in scope system`},
	} {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			_, err := expression(t, tc.src).Render(fullEnv())
			require.EqualError(t, err, tc.want)
		})
	}
	_, err := expression(t, "<% task(x) %>").Render(&Env{})
	require.ErrorContains(t, err, "task(x): no task states are available here")
}

// A hostile expression cannot take more memory than the rules' expression budget.
func TestExpressionBudget(t *testing.T) {
	t.Parallel()
	_, err := expression(t, `{{ repeat("x", 100000000) }}`).Render(&Env{})
	require.ErrorContains(t, err, "over what is left of the expression budget")
	big := strings.Repeat("x", 1<<20)
	_, err = expression(t, `<% str(ctx(s)) + str(ctx(s)) + str(ctx(s)) + str(ctx(s)) + str(ctx(s)) + str(ctx(s)) + str(ctx(s)) + str(ctx(s)) + str(ctx(s)) %>`).
		Render(&Env{Ctx: map[string]any{"s": []any{big, big}}})
	require.ErrorContains(t, err, "over what is left of the expression budget")
}
