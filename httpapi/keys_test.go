package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/internal/attunetest"
)

// /api/v1/keys writes and reads the datastore as `attune key` does: scopes, prefixes, TTLs,
// secrets sealed and never sent back, every bad field listed, nothing stored on error.
func TestDatastoreKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do("PUT", "/api/v1/keys/done.web1", []byte(`{"value": "yes", "ttl": 3600}`))
	require.Equal(t, 200, r.code, r.raw)
	require.Equal(t, "system", r.body["scope"])
	require.Equal(t, "yes", r.body["value"])
	exp, err := time.Parse(time.RFC3339Nano, r.body["expires_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(time.Hour), exp, time.Minute)
	require.Equal(t, 200, b.do("PUT", "/api/v1/keys/done.web2", []byte(`{"value": "yes"}`)).code)
	require.Equal(t, 200, b.do("PUT", "/api/v1/keys/other", []byte(`{"value": "x"}`)).code)
	r = b.do("PUT", "/api/v1/keys/pw?scope=user:ann", []byte(`{"value": "hunter2", "secret": true}`))
	require.Equal(t, 200, r.code, r.raw)
	require.Nil(t, r.body["value"])
	require.NotContains(t, r.raw, "hunter2")

	// What the rules read is what the API wrote.
	k, err := b.env.P.GetKey(context.Background(), b.env.DB.AutoCommit(), "user:ann", "pw", true)
	require.NoError(t, err)
	require.Equal(t, "hunter2", k.Value)

	r = b.do("GET", "/api/v1/keys/pw?scope=user:ann", nil)
	require.Equal(t, 200, r.code, r.raw)
	require.Equal(t, true, r.body["secret"])
	require.Nil(t, r.body["value"])
	r = b.do("GET", "/api/v1/keys?prefix=done.", nil)
	require.Equal(t, 200, r.code, r.raw)
	require.Regexp(t, `^\[\{"scope":"system","name":"done.web1".*"name":"done.web2"[^\]]*\]\n$`, r.raw)
	r = b.do("GET", "/api/v1/keys?scope=user:ann", nil)
	require.Contains(t, r.raw, `"name":"pw"`)
	require.NotContains(t, r.raw, "hunter2")
	require.NotContains(t, r.raw, "done.web1")
	require.Equal(t, 400, b.do("GET", "/api/v1/keys?scope=root", nil).code)

	r = b.do("PUT", "/api/v1/keys/a%20b", []byte(`{"value": 7, "ttl": -5, "secret": "yes", "colour": 1}`))
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, []string{"colour", "name", "secret", "ttl", "value"}, fieldsOf(r))
	require.Equal(t, 422, b.do("PUT", "/api/v1/keys/x", []byte(`{"value": "v", "ttl": "soon"}`)).code)
	require.Equal(t, 404, b.do("GET", "/api/v1/keys/x", nil).code, "nothing stored")

	r = b.do("DELETE", "/api/v1/keys/done.web1", nil)
	require.Equal(t, 204, r.code, r.raw)
	require.Equal(t, 404, b.do("GET", "/api/v1/keys/done.web1", nil).code)
	require.Equal(t, 404, b.do("DELETE", "/api/v1/keys/done.web1", nil).code)
	require.Equal(t, 401, b.do("GET", "/api/v1/keys", nil, "Authorization", "").code)
}

// A secret key needs the server's secrets.key: without it the write is refused, naming the field.
func TestDatastoreSecretNeedsKey(t *testing.T) {
	t.Parallel()
	b := setup(t, attunetest.Options{NoSecretsKey: true})
	r := b.do("PUT", "/api/v1/keys/pw", []byte(`{"value": "hunter2", "secret": true}`))
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, []string{"secret"}, fieldsOf(r))
	require.Equal(t, 404, b.do("GET", "/api/v1/keys/pw", nil).code)
}
