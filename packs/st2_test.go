package packs

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// A pack in StackStorm's shape whose action names hold dots, as the Exchange's ansible pack's
// do: the ref is the pack, a dot, and the whole name; a rule refers to it by that ref.
func TestStackStormDottedActionNames(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"st/pack.yaml": {Data: []byte("ref: st\nname: st\nversion: 0.1.0\nauthor: me\n")},
		"st/actions/galaxy.install.yaml": {Data: []byte("---\nname: galaxy.install\npack: st\nrunner_type: noop\n" +
			"enabled: true\nparameters:\n  roles: {type: array}\n")},
		"st/actions/vault.decrypt.yaml": {Data: []byte("name: st.vault.decrypt\nrunner_type: noop\n")},
		"st/rules/on_tick.yaml": {Data: []byte("name: on_tick\npack: st\nenabled: true\n" +
			"trigger: {type: core.intervaltimer, parameters: {interval: 10, unit: seconds}}\n" +
			"action: {ref: st.galaxy.install, parameters: {roles: [a]}}\n")},
	}
	p, err := Load(fsys, "st", testNow)
	require.NoError(t, err)
	var refs []string
	for _, a := range p.Actions {
		refs = append(refs, a.Ref)
	}
	require.ElementsMatch(t, []string{"st.galaxy.install", "st.vault.decrypt"}, refs)
	require.Equal(t, "st.galaxy.install", p.Rules[0].ActionRef)

	// A rule naming a dotted action the pack does not have is still an error, with the full ref.
	fsys["st/rules/on_tick.yaml"] = &fstest.MapFile{Data: []byte("name: on_tick\ntrigger: {type: core.intervaltimer, parameters: {interval: 10}}\n" +
		"action: {ref: st.galaxy.remove}\n")}
	require.Equal(t, []string{`st/rules/on_tick.yaml:3:10: action "st.galaxy.remove" is not defined in this pack: no actions/*.yaml has ref: galaxy.remove`},
		problemLines(t, fsys, "st"))

	// Malformed dotted names are refused.
	fsys["st/rules/on_tick.yaml"] = &fstest.MapFile{Data: []byte("name: on_tick\ntrigger: {type: core.intervaltimer, parameters: {interval: 10}}\naction: {ref: st.galaxy.install}\n")}
	fsys["st/actions/vault.decrypt.yaml"] = &fstest.MapFile{Data: []byte("name: vault..decrypt\nrunner_type: noop\n")}
	require.Equal(t, []string{`st/actions/vault.decrypt.yaml:1:1: action name "vault..decrypt" must be letters, digits, _ and -, starting with a letter or _, in words joined by dots`},
		problemLines(t, fsys, "st"))
}
