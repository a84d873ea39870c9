package jobs

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/runtimes"
	"github.com/attune-run/attune/secrets"
)

func TestPrepareAndRunParameters(t *testing.T) {
	t.Parallel()
	key := make([]byte, secrets.KeySize)
	_, err := rand.Read(key)
	require.NoError(t, err)
	box, err := secrets.NewBox(key)
	require.NoError(t, err)
	action := attune.Action{Ref: "p.a", Parameters: attune.ParamSchema{
		"user": {Type: "string", Default: "bob"},
		"pw":   {Type: "string", Secret: true},
	}}

	p := &Pipeline{Worker: "w1", Secrets: box}
	prep, err := p.prepare(action, map[string]any{"pw": "s3cret"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"user": "bob", "pw": "********"}, prep.stored)
	require.NotEmpty(t, prep.sealed)

	x := attune.Execution{ID: 7, Parameters: prep.stored, SealedSecrets: prep.sealed}
	run, sc, err := p.runParameters(x, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"user": "bob", "pw": "s3cret"}, run)
	require.Equal(t, "********", prep.stored["pw"], "the stored parameters are not modified")
	res := scrub(runtimes.Result{Stdout: "pw=s3cret", Stderr: "s3cret!", Error: "bad s3cret", Data: []any{"s3cret"}}, sc)
	require.Equal(t, runtimes.Result{Stdout: "pw=********", Stderr: "********!", Error: "bad ********", Data: []any{"********"}}, res)

	noKey := &Pipeline{Worker: "w2"}
	_, _, err = noKey.runParameters(x, nil)
	require.EqualError(t, err, "execution 7 has secret parameters, but worker w2 has no secrets.key: set the same secrets.key on every replica")
	_, err = noKey.prepare(action, map[string]any{"pw": "s3cret"})
	require.ErrorIs(t, err, secrets.ErrNoKey)
	prep, err = noKey.prepare(action, nil)
	require.NoError(t, err, "no secret given: no key needed")
	require.Nil(t, prep.sealed)

	plain := attune.Execution{ID: 8, Parameters: map[string]any{"user": "x"}}
	run, sc, err = noKey.runParameters(plain, nil)
	require.NoError(t, err)
	require.Equal(t, plain.Parameters, run)
	require.True(t, sc.Empty())
}
