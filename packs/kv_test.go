package packs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A rule that renders a secret key into a parameter not marked secret is refused at
// registration, at the parameter's line.
func TestRuleDecryptingIntoPlainParamIsRefused(t *testing.T) {
	t.Parallel()
	action := "ref: login\nrunner_type: noop\nparameters: {user: {type: string}, password: {type: string, secret: true}}\n"
	rule := "ref: r\ntrigger_ref: x.t\naction_ref: login\naction_params:\n" +
		"  password: \"{{ st2kv.system.pw | decrypt_kv }}\"\n" +
		"  user: \"{{ decrypt_kv(st2kv.system.pw) }}\"\n"
	got := problemLines(t, packFS(map[string]string{"actions/login.yaml": action, "rules/r.yaml": rule}), ".")
	require.Len(t, got, 1, "got:\n%s", strings.Join(got, "\n"))
	require.Contains(t, got[0], `rules/r.yaml:6:3:`)
	require.Contains(t, got[0], `action_params.user: decrypts a secret key with decrypt_kv, but the action's parameter "user" is not marked secret: true`)

	ok := "ref: r\ntrigger_ref: x.t\naction_ref: login\naction_params:\n" +
		"  password: \"{{ st2kv.system.pw | decrypt_kv }}\"\n  user: \"{{ st2kv.system.user }}\"\n"
	_, err := Load(packFS(map[string]string{"actions/login.yaml": action, "rules/r.yaml": ok}), ".", testNow)
	require.NoError(t, err)
}
