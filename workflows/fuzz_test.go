package workflows

import (
	"os"
	"testing"

	"github.com/attune-run/attune/rules"
)

// Parse and Check never panic, whatever the file holds; a workflow that parses renders its
// values without panicking either.
func FuzzParse(f *testing.F) {
	everything, err := os.ReadFile("testdata/everything.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(everything))
	f.Add("version: 1.0\ntasks:\n  a:\n    action: core.echo m=<% ctx(x).select($.y)[0] %> n=\"{{ _.z }}\"\n    next: [{do: 'a, b', publish: k=1}]\n")
	f.Add("version: 1.0\ntasks:\n  a:\n    with: x, y in <% zip([1], [2]) %>\n    input: {v: '<% not item(x) or 1 mod 2 %>'}\n")
	f.Fuzz(func(t *testing.T, src string) {
		w, err := Parse("f.yaml", []byte(src))
		if err != nil {
			return
		}
		w.Check(func(string) bool { return true })
		env := &Env{Ctx: map[string]any{"x": []any{map[string]any{"y": 1.0}}}, Item: map[string]any{"x": 1.0}}
		for _, name := range w.Order {
			for _, v := range w.Tasks[name].Input {
				_, _ = v.Render(env)
			}
		}
	})
}

// The YAQL translator never panics, and what it accepts compiles or fails to compile cleanly.
func FuzzYAQL(f *testing.F) {
	for _, s := range []string{"ctx().x.select($.y * 2)[0]", "not ctx(a) or 'b' + str(1)", "-(1 mod 2) >= len([1, 'x'])", "$.a = null and task(t).status != 'x'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		code, err := yaqlToExpr(src)
		if err != nil {
			return
		}
		if p, err := language.Compile(code, false); err == nil {
			_, _ = p.Run(map[string]any{envKey: &Env{}, ctxRoot: map[string]any{}}, rules.NewBudget())
		}
	})
}
