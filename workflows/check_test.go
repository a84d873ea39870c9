package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// checkLines parses src and returns what Check says about it, one line per problem.
func checkLines(t *testing.T, src string, resolve func(string) bool) []string {
	t.Helper()
	var lines []string
	for _, p := range parse(t, src).Check(resolve) {
		lines = append(lines, p.Error())
	}
	return lines
}

// Each thing Check finds in a workflow that parses, at the line and column it is about.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		resolve   func(string) bool
		want      []string
	}{
		{"a loop is fine; a reserved word among tasks is not", `version: 1.0
tasks:
  init:
    next: [{do: a}]
  a:
    action: core.noop
    next:
      - when: <% ctx(i) < 3 %>
        publish: i=<% ctx(i) + 1 %>
        do: a
      - do: [b, noop]
  b:
`, nil, []string{`wf.yaml:11:17: task a: do: noop must be alone in its list; give it its own transition`}},
		{"do names a missing task", `version: 1.0
tasks:
  a:
    next:
      - do: b, c
      - do: [bb, noope]
  bb:
`, nil, []string{`wf.yaml:5:13: task a: do names task "b", which does not exist; tasks: [a bb]`,
			`wf.yaml:5:16: task a: do names task "c", which does not exist; tasks: [a bb]`,
			`wf.yaml:6:18: task a: do names task "noope", which does not exist; did you mean "noop"?`}},
		{"unreachable tasks", `version: 1.0
tasks:
  a:
  b:
    next: [{do: c}]
  c:
    next: [{do: b}]
`, nil, []string{"wf.yaml:4:3: task b cannot be reached: only tasks that no start task leads to transition to it",
			"wf.yaml:6:3: task c cannot be reached: only tasks that no start task leads to transition to it"}},
		{"no start task", `version: 1.0
tasks:
  a:
    next: [{do: a}]
`, nil, []string{"wf.yaml:3:3: no task can start: every task has a transition leading to it; a start task is one that nothing transitions to"}},
		{"action that does not resolve", `version: 1.0
tasks:
  a:
    action: core.echo message=hi
    next: [{do: b}]
  b:
    action:   mypack.gone
`, func(ref string) bool { return ref == "core.echo" },
			[]string{"wf.yaml:7:15: task b: action mypack.gone does not exist: its pack defines no action of that name"}},
		{"join on a start task", `version: 1.0
tasks:
  a:
    join: all
`, nil, []string{"wf.yaml:3:3: task a has join but no task transitions to it, so it would start at once; remove join or add the transitions"}},
		{"join on more branches than lead there", `version: 1.0
tasks:
  a:
    next: [{do: [b, c]}]
  b:
    next: [{do: d}]
  c:
    next: [{do: d}]
  d:
    join: 3
`, nil, []string{"wf.yaml:9:3: task d has join: 3 but only 2 transitions lead to it, so it would never run"}},
		{"concurrency not positive", `version: 1.0
tasks:
  a:
    with: {items: "<% ctx().l %>", concurrency: 0}
    next: [{do: b}]
  b:
    with:
      items: <% ctx().l %>
      concurrency: -2
    next: [{do: c}]
  c:
    with:
      items: <% ctx().l %>
      concurrency: <% ctx().n %>
`, nil, []string{"wf.yaml:4:49: task a: with concurrency must be a whole number of 1 or more, or an expression; found the number 0",
			"wf.yaml:9:20: task b: with concurrency must be a whole number of 1 or more, or an expression; found the number -2"}},
		{"item() outside with-items input", `version: 1.0
tasks:
  a:
    action: core.echo message=<% item() %>
    next:
      - do: b
        publish: last=<% item() %>
  b:
    with: <% ctx().l %>
    action: core.echo message="{{ item() }}"
    retry: {count: 1, when: "<% item() = 1 %>"}
`, nil, []string{"wf.yaml:4:23: task a: item() has a value only in the input of a task with with: items",
			"wf.yaml:6:9: task a: item() has a value only in the input of a task with with: items; transitions run once all items are done (result() lists their results)",
			"wf.yaml:11:30: task b: item() has a value only in the input of a task with with: items; retry runs once all items are done"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, checkLines(t, tc.src, tc.resolve))
		})
	}
}

// Start tasks are those no transition leads to, in the order they are written.
func TestStarts(t *testing.T) {
	t.Parallel()
	w := parse(t, `version: 1.0
tasks:
  z:
    next: [{do: a}]
  a:
  m:
    next: [{when: <% failed() %>, do: m}]
  b:
`)
	require.Equal(t, []string{"z", "b"}, w.Starts())
}
