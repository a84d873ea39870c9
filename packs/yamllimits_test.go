package packs

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// billionLaughs is the classic alias bomb: 9 levels of 9 aliases, 9^9 strings once expanded.
const billionLaughs = `ref: r
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

// A "billion laughs" file is refused at the alias that expands it too far, without expanding it.
func TestLoadRefusesAliasBomb(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	errs := problemLines(t, packFS(map[string]string{"rules/r.yaml": billionLaughs}), ".")

	runtime.ReadMemStats(&after)
	require.Equal(t, []string{
		"rules/r.yaml:6:8: alias *d expands the file too far; aliases may add at most 10000 values and 1 MiB of text to a pack file",
	}, errs)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(256<<20), "memory allocated while loading")
}

// Aliases of a long string are counted by its length.
func TestLoadRefusesAliasesOfLongText(t *testing.T) {
	t.Parallel()
	file := "ref: r\nx: &s " + strings.Repeat("a", 600_000) + "\ny: [*s, *s]\n"
	require.Equal(t, []string{
		"rules/r.yaml:3:9: alias *s expands the file too far; aliases may add at most 10000 values and 1 MiB of text to a pack file",
	}, problemLines(t, packFS(map[string]string{"rules/r.yaml": file}), "."))
}

// A few aliases, as used to share a parameter spec, are fine.
func TestLoadAcceptsModestAliases(t *testing.T) {
	t.Parallel()
	_, err := Load(packFS(map[string]string{"actions/a.yaml": `ref: a
runner_type: noop
x-spec: &spec {type: string, description: shared}
parameters:
  one: *spec
  two: {<<: *spec, required: true}
`}), ".", testNow)
	require.NoError(t, err)
}

// Nesting deeper than 64 levels is refused where it goes too deep, in flow style, in block style,
// and through an alias.
func TestLoadRefusesDeepNesting(t *testing.T) {
	t.Parallel()
	block := "ref: r\nx:\n"
	for i := 1; i <= 70; i++ {
		block += strings.Repeat(" ", i) + "- \n"
	}
	deepAnchor := "ref: r\nx: &deep " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\ny: " + strings.Repeat("[", 30) + "*deep" + strings.Repeat("]", 30) + "\n"
	for _, tt := range []struct {
		name, file, want string
	}{
		{"flow", "ref: r\nx: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n", "rules/r.yaml:2:67: "},
		{"block", block, "rules/r.yaml:66:65: "},
		{"alias", deepAnchor, "rules/r.yaml:3:34: "},
		{"huge", "ref: r\nx: " + strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + "\n", "rules/r.yaml:2:67: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs := problemLines(t, packFS(map[string]string{"rules/r.yaml": tt.file}), ".")
			require.Equal(t, []string{tt.want + "nested more than 64 levels deep; pack files are limited to 64 levels of mappings and lists"}, errs)
		})
	}
}

// 64 levels are fine.
func TestLoadAcceptsNestingToTheLimit(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("{a: ", 62) + "1" + strings.Repeat("}", 62)
	_, err := Load(packFS(map[string]string{
		"actions/a.yaml": "ref: a\nrunner_type: noop\nparameters:\n  p: {type: object}\n",
		"rules/r.yaml":   fmt.Sprintf("ref: r\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 5}\naction_ref: a\naction_params: {p: %s}\n", deep),
	}), ".", testNow)
	require.NoError(t, err)
}

// A cancelled context stops loading between files.
func TestValidateDirStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	dir := diskPack(t, map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\n"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	p, _, err := ValidateDir(ctx, dir, testNow)

	require.Nil(t, p)
	require.ErrorIs(t, err, context.Canceled)
}
