package workflows

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// parse parses src, failing the test on problems.
func parse(t *testing.T, src string) *Workflow {
	t.Helper()
	w, err := Parse("wf.yaml", []byte(src))
	require.NoError(t, err)
	return w
}

// problems returns the lines of the error Parse gives for src.
func problems(t *testing.T, src string) []string {
	t.Helper()
	_, err := Parse("wf.yaml", []byte(src))
	require.Error(t, err)
	var ps Problems
	require.ErrorAs(t, err, &ps)
	return strings.Split(err.Error(), "\n")
}

// render renders v against env, failing the test on error.
func render(t *testing.T, v *Value, env *Env) any {
	t.Helper()
	out, err := v.Render(env)
	require.NoError(t, err)
	return out
}

// Every short form of the language, read into the structure the conductor runs.
func TestParseEverything(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/everything.yaml")
	require.NoError(t, err)
	w, err := Parse("workflows/everything.yaml", data)
	require.NoError(t, err)
	require.Empty(t, w.Check(nil))

	require.Equal(t, "1.0", w.Version)
	require.Equal(t, "Every short form attune reads.", w.Description)
	require.Equal(t, []string{"say", "each", "zipped", "done"}, w.Order)
	require.Equal(t, []string{"say"}, w.Starts())

	require.Len(t, w.Input, 2)
	require.Equal(t, "name", w.Input[0].Name)
	require.Nil(t, w.Input[0].Default)
	env := &Env{Ctx: map[string]any{"name": "ann", "count": 1.0, "hosts": []any{"a", "b"}, "said": "hi"}}
	require.Equal(t, "hello ann", render(t, w.Input[1].Default, env))
	require.Equal(t, []string{"count", "hosts"}, []string{w.Vars[0].Name, w.Vars[1].Name})
	require.Equal(t, []any{"a", "b"}, render(t, w.Vars[1].Value, env))
	require.Equal(t, "hi", render(t, w.Output[0].Value, env))
	require.Equal(t, "1 of 2 for ann", render(t, w.Output[1].Value, env))

	say := w.Tasks["say"]
	require.Equal(t, "core.echo", say.Action)
	require.Equal(t, 2, say.Delay)
	require.Equal(t, &Retry{Count: 2, Delay: 1, When: say.Retry.When}, say.Retry)
	require.Equal(t, "<% failed() %>", say.Retry.When.Src)
	input := map[string]any{}
	for k, v := range say.Input {
		input[k] = render(t, v, env)
	}
	require.Equal(t, map[string]any{"message": "hi there", "n": 4.0, "flag": true, "who": "ann", "text": "it's"}, input,
		"inline parameters, with input: winning over n=3")

	require.Len(t, say.Next, 3)
	first := say.Next[0]
	require.Equal(t, 23, first.Line)
	require.Equal(t, []string{"each", "zipped"}, first.Do)
	require.Equal(t, []string{"said", "count"}, []string{first.Publish[0].Name, first.Publish[1].Name})
	ok, err := first.When.True(&Env{Ctx: map[string]any{"count": 0.0}, TaskStatus: "succeeded"})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 2.0, render(t, first.Publish[1].Value, env))
	require.Equal(t, "nothing", render(t, say.Next[1].Publish[0].Value, env))
	require.Equal(t, []string{DoNoop}, say.Next[1].Do)
	require.Nil(t, say.Next[2].When, "a transition without when fires on any completion")
	require.Equal(t, []string{DoFail}, say.Next[2].Do)

	each := w.Tasks["each"]
	items, err := each.With.Items.Eval(env)
	require.NoError(t, err)
	require.Equal(t, []any{"a.example", "b.example"}, items)
	require.Empty(t, each.With.Vars)
	require.Equal(t, 2.0, render(t, each.With.Concurrency, env))
	require.Equal(t, "x", render(t, each.Input["cmd"], &Env{Item: "x"}))

	zipped := w.Tasks["zipped"].With
	require.Equal(t, []string{"host", "n"}, zipped.Vars)
	require.Nil(t, zipped.Concurrency)
	pairs, err := zipped.Items.Eval(env)
	require.NoError(t, err)
	require.Equal(t, []any{[]any{"a", 1}, []any{"b", 2}}, pairs)

	done := w.Tasks["done"]
	require.Equal(t, JoinAll, done.Join)
	require.Empty(t, done.Action, "a task without an action is a router")
}

// version is 1.0, written as a number or a string.
func TestParseVersion(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"1.0", `"1.0"`, "1"} {
		require.Equal(t, "1.0", parse(t, "version: "+v+"\ntasks:\n  a:\n").Version, v)
	}
	require.Equal(t, []string{`wf.yaml:1:10: version must be 1.0; found the number 2`},
		problems(t, "version: 2.0\ntasks:\n  a:\n"))
	require.Equal(t, []string{`wf.yaml:1:1: a workflow needs version: 1.0`},
		problems(t, "tasks:\n  a:\n"))
}

// The short forms in strings: inline parameters, publish k=v, do "a, b", with "x in …".
func TestParseShortForms(t *testing.T) {
	t.Parallel()
	w := parse(t, `version: 1.0
tasks:
  a:
    action: core.local cmd="echo <% ctx().x %> and {{ ctx().y }}" timeout=30 env={"A":1} n=null q="say \"hi\""
    next:
      - publish: "a=1 b=<% ctx().x %>   c='two words' d=<% ctx().x + ' ' + ctx().y %>"
        do: "b,c"
  b:
    with: <% ctx().list %>
  c:
    with: "x in {{ ctx().list }}"
`)
	env := &Env{Ctx: map[string]any{"x": "X", "y": "Y", "list": []any{1.0}}}
	a := w.Tasks["a"]
	got := map[string]any{}
	for k, v := range a.Input {
		got[k] = render(t, v, env)
	}
	require.Equal(t, map[string]any{"cmd": "echo X and Y", "timeout": 30.0, "env": `{"A":1}`, "n": nil, "q": `say "hi"`}, got)
	pub := map[string]any{}
	for _, p := range a.Next[0].Publish {
		pub[p.Name] = render(t, p.Value, env)
	}
	require.Equal(t, map[string]any{"a": 1.0, "b": "X", "c": "two words", "d": "X Y"}, pub)
	require.Equal(t, []string{"b", "c"}, a.Next[0].Do)
	require.Empty(t, w.Tasks["b"].With.Vars)
	require.Equal(t, []string{"x"}, w.Tasks["c"].With.Vars)
	items, err := w.Tasks["c"].With.Items.Eval(env)
	require.NoError(t, err)
	require.Equal(t, []any{1.0}, items)
}

// Everything Parse refuses, each at the line and column it is about.
func TestParseProblems(t *testing.T) {
	t.Parallel()
	head := "version: 1.0\ntasks:\n"
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown top-level key", "version: 1.0\ntask:\n  a:\n",
			[]string{`wf.yaml:1:1: a workflow needs tasks:, a mapping of task names to tasks`, `wf.yaml:2:1: unknown key "task" in a workflow; did you mean "tasks"?`}},
		{"unknown task key", head + "  a:\n    action: core.noop\n    nxt: []\n",
			[]string{`wf.yaml:5:5: unknown key "nxt" in task a; did you mean "next"?`}},
		{"unknown transition key", head + "  a:\n    next:\n      - do: a\n        publsh: x=1\n        then: b\n",
			[]string{`wf.yaml:6:9: unknown key "publsh" in a transition; did you mean "publish"?`,
				`wf.yaml:7:9: unknown key "then" in a transition; did you mean "when"?`}},
		{"unknown with key", head + "  a:\n    with:\n      items: <% ctx().l %>\n      parallel: 2\n",
			[]string{`wf.yaml:6:7: unknown key "parallel" in with; known keys: items, concurrency`}},
		{"unknown retry key", head + "  a:\n    retry:\n      count: 1\n      delays: 2\n",
			[]string{`wf.yaml:6:7: unknown key "delays" in retry; did you mean "delay"?`}},
		{"reserved task name", head + "  noop:\n    action: core.noop\n",
			[]string{`wf.yaml:3:3: task name "noop" is reserved for do:; rename the task`}},
		{"bad task name", head + "  a-b:\n    action: core.noop\n",
			[]string{`wf.yaml:3:3: task name "a-b" may hold only letters, digits and _`}},
		{"bad action ref", head + "  a:\n    action: echo hi\n",
			[]string{`wf.yaml:4:13: action "echo" must be an action ref such as core.echo (pack.name)`}},
		{"bad inline parameter", head + "  a:\n    action: core.echo message=hi oops\n",
			[]string{`wf.yaml:4:34: expected name=value here (parameters are written k=v k2="v 2"), found "oops"`}},
		{"unclosed quote", head + "  a:\n    action: core.echo message=\"hi\n",
			[]string{`wf.yaml:4:31: message="…: the quoted value is not closed`}},
		{"bad join", head + "  a:\n    join: some\n",
			[]string{`wf.yaml:4:11: join must be all or a number of inbound branches (1 or more); found the string "some"`}},
		{"bad delay", head + "  a:\n    delay: <% ctx().d %>\n",
			[]string{`wf.yaml:4:12: delay must be a whole number of seconds from 0 to 2592000; found the string "<% ctx().d %>"`}},
		{"retry count too high", head + "  a:\n    retry: {count: 1000}\n",
			[]string{`wf.yaml:4:20: retry count must be a whole number of retries from 0 to 100; found the number 1000`}},
		{"bad do", head + "  a:\n    next:\n      - do: {b: 1}\n",
			[]string{`wf.yaml:5:13: do must be a task name, a list of them, or "a, b"; found a mapping`}},
		{"with without items", head + "  a:\n    with:\n      concurrency: 2\n",
			[]string{`wf.yaml:5:7: with needs items:, the expression giving the list to run the task for`}},
		{"when mixing text", head + "  a:\n    next:\n      - when: ok <% succeeded() %>\n        do: a\n",
			[]string{`wf.yaml:5:15: ok <% succeeded() %>: write one expression, such as <% succeeded() %>, not text mixed with expressions`}},
		{"unclosed expression", head + "  a:\n    action: core.echo message=<%ctx().x\n",
			[]string{`wf.yaml:4:31: "<%" without a closing "%>"`}},
		{"jinja statement", head + "  a:\n    input:\n      m: \"{% if x %}y{% endif %}\"\n",
			[]string{`wf.yaml:5:11: Jinja statements ({% … %}) are not supported; use one {{ }} or <% %> expression`}},
		{"expr compile error", head + "  a:\n    input:\n      m: \"{{ ctx().x + }}\"\n",
			[]string{`wf.yaml:5:23: {{ ctx().x + }}: unexpected token EOF`}},
		{"unknown name in jinja", head + "  a:\n    input:\n      m: \"x {{ event.payload }}\"\n",
			[]string{`wf.yaml:5:16: {{ event.payload }}: unknown name event; read the context with ctx().name`}},
		{"input not a list", "version: 1.0\ninput: name\ntasks:\n  a:\n",
			[]string{`wf.yaml:2:8: input must be a list of names and {name: default} mappings; found the string "name"`}},
		{"vars entry of two keys", "version: 1.0\nvars:\n  - {a: 1, b: 2}\ntasks:\n  a:\n",
			[]string{`wf.yaml:3:5: each entry of vars is a mapping of one name to its value; this one has 2 keys`}},
		{"empty file", "", []string{"wf.yaml: file is empty; expected a YAML mapping"}},
		{"no tasks", "version: 1.0\ntasks: {}\n", []string{"wf.yaml:2:8: a workflow needs at least one task"}},
		{"a problem an alias repeats, once", head + "  a:\n    input: {x: &x <% foo() %>, y: *x}\n",
			[]string{"wf.yaml:4:22: <% foo() %>: function foo() is not part of the YAQL that attune supports in <% %>; the functions are ctx, result, succeeded, failed, completed, item, task, json, zip, len, str, bool, st2kv, kv"}},
		{"invalid YAML", "version: 1.0\ntasks: [\n",
			[]string{`wf.yaml:2:8: invalid YAML: sequence end token ']' not found`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, problems(t, tc.src))
		})
	}
}

// Anything outside attune's YAQL subset is refused where it is written, never guessed at.
func TestParseRefusesUnsupportedYAQL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ expr, want string }{
		{`<% ctx().l.where($ > 1) %>`, `wf.yaml:5:21: <% ctx().l.where($ > 1) %>: method .where() is not part of the YAQL that attune supports in <% %>; only .select($.x) is`},
		{`<% regex('a').matches(ctx().s) %>`, `wf.yaml:5:13: <% regex('a').matches(ctx().s) %>: function regex() is not part of the YAQL that attune supports in <% %>; the functions are ctx, result, succeeded, failed, completed, item, task, json, zip, len, str, bool, st2kv, kv`},
		{`<% $x + 1 %>`, `wf.yaml:5:13: <% $x + 1 %>: $x: YAQL variables are not supported in <% %>; write ctx(x) or ctx().x`},
		{`<% ctx().x in [1, 2] %>`, `wf.yaml:5:21: <% ctx().x in [1, 2] %>: "in" is not part of the YAQL that attune supports in <% %>; see docs/workflows.md`},
		{`<% {a => 1} %>`, `wf.yaml:5:13: <% {a => 1} %>: "{" is not part of the YAQL that attune supports in <% %>; see docs/workflows.md`},
		{`<% name %>`, `wf.yaml:5:13: <% name %>: unknown name "name": write ctx().name to read the context, or call one of ctx, result, succeeded, failed, completed, item, task, json, zip, len, str, bool, st2kv, kv`},
		{`<% result(1) %>`, `wf.yaml:5:13: <% result(1) %>: result() takes no arguments, not 1`},
		{`<% 1 < 2 < 3 %>`, `wf.yaml:5:19: <% 1 < 2 < 3 %>: comparisons do not chain; join them with and`},
		{`<% ctx().a ctx().b %>`, `wf.yaml:5:21: <% ctx().a ctx().b %>: unexpected "ctx"; <% %> holds one expression`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			src := "version: 1.0\ntasks:\n  a:\n    input:\n      m: " + tc.expr + "\n"
			require.Equal(t, []string{tc.want}, problems(t, src))
		})
	}
}

// Workflow files have the limits of every pack file: an alias bomb is refused without being
// expanded, and so is nesting past 64 levels; a YAQL expression may nest 100 levels.
func TestParseLimits(t *testing.T) {
	t.Parallel()
	bomb := `version: 1.0
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
tasks: {}
`
	require.Equal(t, []string{"wf.yaml:6:8: alias *d expands the file too far; aliases may add at most 10000 values and 1 MiB of text to a pack file"},
		problems(t, bomb))
	nested := problems(t, "version: 1.0\ntasks:\n  a:\n    input:\n      m: <% "+strings.Repeat("(", 5000)+"1"+strings.Repeat(")", 5000)+" %>\n")
	require.Len(t, nested, 1)
	require.Contains(t, nested[0], "the expression nests more than 100 levels deep")
	deep := "version: 1.0\ntasks:\n  a:\n    input:\n      m: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "\n"
	got := problems(t, deep)
	require.Len(t, got, 1)
	require.Contains(t, got[0], "nested more than 64 levels deep")
}

// A problem in an expression is located at its column when the scalar maps column for column,
// and at the scalar's start when escapes or line breaks make that impossible.
func TestProblemColumns(t *testing.T) {
	t.Parallel()
	head := "version: 1.0\ntasks:\n  a:\n    input:\n"
	for _, tc := range []struct{ value, want string }{
		{`m: x <% nope() %>`, "wf.yaml:5:15:"},
		{`m: x <% nope() %>   `, "wf.yaml:5:15:"},
		{`m: "x <% nope() %>"`, "wf.yaml:5:16:"},
		{`m: 'x <% nope() %>'`, "wf.yaml:5:16:"},
		{`m: "\"x <% nope() %>"`, "wf.yaml:5:10:"},
		{`m: 'it''s <% nope() %>'`, "wf.yaml:5:10:"},
		{"m: x\n        <% nope() %>", "wf.yaml:5:10:"},
		{"m: |\n        <% nope() %>", "wf.yaml:6:12:"},
	} {
		got := problems(t, head+"      "+tc.value+"\n")
		require.Len(t, got, 1)
		require.True(t, strings.HasPrefix(got[0], tc.want), "%q: %s", tc.value, got[0])
	}
}
