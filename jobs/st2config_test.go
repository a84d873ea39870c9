package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/packs"
	"github.com/attune-run/attune/secrets"
)

// secretConfigPack is a StackStorm-shaped pack whose config.schema.yaml marks token secret, and
// a python-script action that uses it.
var secretConfigPack = map[string]string{
	"pack.yaml":           "ref: vault9\nname: vault9\nversion: 0.1.0\n",
	"config.schema.yaml":  "url:\n  type: string\n  default: https://v.example\ntoken:\n  type: string\n  secret: true\n  required: true\n",
	"actions/whoami.yaml": "name: whoami\npack: vault9\nrunner_type: python-script\nentry_point: whoami.py\n",
	"actions/whoami.py": `from st2common.runners.base_action import Action


class WhoAmI(Action):
    def run(self):
        print("token is " + self.config["token"])
        return {"url": self.config["url"], "token_ok": self.config["token"] == "tok-5ecret-77"}
`,
}

// A config value marked secret in config.schema.yaml is stored sealed, shown as ********, and
// opened only for the pack's python action that runs: self.config holds it, its output does not.
func TestStackStormSecretConfigSealed(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	p, err := packs.LoadDir(attunetest.WritePack(t, secretConfigPack), time.Now())
	require.NoError(t, err)
	require.NoError(t, packs.ApplyConfig(p, map[string]any{"token": "tok-5ecret-77"}))
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)

	var clear string
	var sealed []byte
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT config::text, sealed_config FROM attune.pack WHERE ref = 'vault9'`).Scan(&clear, &sealed))
	require.NotContains(t, clear, "tok-5ecret-77")
	require.Contains(t, clear, "********")
	require.NotEmpty(t, sealed)
	require.NotContains(t, string(sealed), "tok-5ecret-77")
	stored, err := e.DB.AutoCommit().Pack(ctx, "vault9")
	require.NoError(t, err)
	require.Equal(t, "********", stored.Config["token"])
	require.Equal(t, "https://v.example", stored.Config["url"])

	x, data := runST2(t, e, "vault9.whoami", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, map[string]any{"url": "https://v.example", "token_ok": true}, data["result"])
	require.Contains(t, data["stdout"], "token is ********")
	require.NotContains(t, string(x.Result), "tok-5ecret-77")
}

// Without secrets.key, a pack whose secret config key is set is refused at registration, saying
// which key and how to make one.
func TestStackStormSecretConfigNeedsKey(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoSecretsKey: true})
	p, err := packs.LoadDir(attunetest.WritePack(t, secretConfigPack), time.Now())
	require.NoError(t, err)
	require.NoError(t, packs.ApplyConfig(p, map[string]any{"token": "tok-5ecret-77"}))
	_, err = e.Registry.RegisterPack(context.Background(), p)
	require.ErrorIs(t, err, secrets.ErrNoKey)
	require.ErrorContains(t, err, "pack vault9: config keys marked secret in config.schema.yaml (token) are set")
	require.NotContains(t, err.Error(), "tok-5ecret-77")
}

// A config key whose schema marks a nested value secret (the password of each account, as the
// Exchange's email pack has it) is sealed whole and masked whole in the stored config; the
// action sees all of it, and only the password is scrubbed from its output.
func TestStackStormNestedSecretConfig(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	p, err := packs.LoadDir(attunetest.WritePack(t, map[string]string{
		"pack.yaml": "ref: mailer\nname: mailer\nversion: 0.1.0\n",
		"config.schema.yaml": "accounts:\n  type: array\n  items:\n    type: object\n    properties:\n" +
			"      name: {type: string, required: true}\n      password: {type: string, secret: true}\n",
		"actions/show.yaml": "name: show\npack: mailer\nrunner_type: run-python\nentry_point: show.py\n",
		"actions/show.py": `from st2common.runners.base_action import Action


class Show(Action):
    def run(self):
        for a in self.config["accounts"]:
            print(a["name"], a["password"])
        return len(self.config["accounts"])
`,
	}), time.Now())
	require.NoError(t, err)
	require.NoError(t, packs.ApplyConfig(p, map[string]any{"accounts": []any{map[string]any{"name": "ops-mail", "password": "pa55-w0rd"}}}))
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)
	var clear string
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT config::text FROM attune.pack WHERE ref = 'mailer'`).Scan(&clear))
	require.JSONEq(t, `{"accounts": "********"}`, clear)

	x, data := runST2(t, e, "mailer.show", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, 1.0, data["result"])
	require.Equal(t, "ops-mail ********\n", data["stdout"])
}
