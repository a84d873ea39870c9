package secrets_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/secrets"
)

func newKey(t *testing.T) string {
	t.Helper()
	k := make([]byte, secrets.KeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(k)
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	box, err := secrets.ParseKey(newKey(t))
	require.NoError(t, err)
	plain := []byte(`{"token":"hunter2"}`)
	a, b := box.Seal(plain), box.Seal(plain)
	require.NotEqual(t, a, b, "each seal uses a fresh nonce")
	require.False(t, bytes.Contains(a, []byte("hunter2")), "the plaintext is not in the sealed value")
	got, err := box.Open(a)
	require.NoError(t, err)
	require.Equal(t, plain, got)

	var m map[string]any
	sealed, err := box.SealJSON(map[string]any{"n": 1.5, "s": "x"})
	require.NoError(t, err)
	require.NoError(t, box.OpenJSON(sealed, &m))
	require.Equal(t, map[string]any{"n": 1.5, "s": "x"}, m)
}

func TestOpenRejectsOtherKeyAndTampering(t *testing.T) {
	t.Parallel()
	box, err := secrets.ParseKey(newKey(t))
	require.NoError(t, err)
	other, err := secrets.ParseKey(newKey(t))
	require.NoError(t, err)
	sealed := box.Seal([]byte("s3cret"))

	_, err = other.Open(sealed)
	require.ErrorContains(t, err, "sealed under another key (key id "+box.KeyID())
	require.ErrorContains(t, err, "every replica needs the same secrets.key")

	for name, mutate := range map[string]func([]byte){
		"ciphertext": func(b []byte) { b[len(b)-1] ^= 1 },
		"nonce":      func(b []byte) { b[6] ^= 1 },
	} {
		bad := bytes.Clone(sealed)
		mutate(bad)
		_, err = box.Open(bad)
		require.ErrorContains(t, err, "altered", name)
	}
	_, err = box.Open(sealed[:10])
	require.ErrorContains(t, err, "malformed")
	_, err = box.Open(append([]byte{9}, sealed[1:]...))
	require.ErrorContains(t, err, "malformed")
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	raw := make([]byte, secrets.KeySize)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		_, err := secrets.ParseKey(" " + enc.EncodeToString(raw) + "\n")
		require.NoError(t, err)
	}
	tests := []struct {
		name, key, want string
	}{
		{"empty", "", "secrets.key is not set"},
		{"not base64", "this is not base64!!", "secrets.key is not base64"},
		{"short", base64.StdEncoding.EncodeToString([]byte("sixteen byte key")), "must be 32 bytes, got 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := secrets.ParseKey(tt.key)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, err, "head -c32 /dev/urandom | base64")
			if tt.key != "" {
				require.NotContains(t, err.Error(), tt.key, "the key is never echoed")
			}
		})
	}
}
