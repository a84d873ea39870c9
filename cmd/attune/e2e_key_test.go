package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// attune key set/get/list/delete from the real binary: bad input stored nothing, a secret
// read from a file stays sealed until --decrypt, with the embedded default's own key.
func TestE2EKeys(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	must := func(args ...string) string {
		t.Helper()
		out, errOut, code := in.attune(args...)
		require.Equal(t, 0, code, "attune %v: %s", args, errOut)
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		_, errOut, code := in.attune(args...)
		require.NotEqual(t, 0, code, "attune %v should fail", args)
		require.Contains(t, errOut, want, "attune %v", args)
	}

	require.Equal(t, "key system.region set\n", must("key", "set", "region", "eu-west"))
	require.Equal(t, "eu-west\n", must("key", "get", "region"))
	must("key", "set", "run_1", "x", "--ttl", "1h")

	pw := filepath.Join(in.dir, "pw.txt")
	require.NoError(t, os.WriteFile(pw, []byte("hunter2-from-file\n"), 0o600))
	big := filepath.Join(in.dir, "big.txt")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("x", 1<<20+1)), 0o600))
	fails(`key name "has space" has ' '`, "key", "set", "has space", "x")
	fails(`key name "a/b" has '/'`, "key", "set", "a/b", "x")
	fails("a key holds at most 1048576 (1 MiB)", "key", "set", "big", "--from-file", big)
	fails("ttl -1h0m0s is negative", "key", "set", "neg", "x", "--ttl", "-1h")

	var keys []map[string]any
	require.NoError(t, json.Unmarshal([]byte(must("key", "list", "--json")), &keys))
	require.Len(t, keys, 2, "bad input stored nothing")
	require.Equal(t, "region", keys[0]["name"])
	require.Equal(t, "run_1", keys[1]["name"])
	require.NotNil(t, keys[1]["expires_at"])

	// The embedded default seals with the key it generated into <data_dir>/secrets.key; an
	// external database without secrets.key refuses (jobs.TestSetKeyRefusesBadInput).
	require.Equal(t, "key system.pw set (secret)\n", must("key", "set", "pw", "--secret", "--from-file", pw))
	require.Equal(t, "********\n", must("key", "get", "pw"))
	require.Equal(t, "hunter2-from-file\n", must("key", "get", "pw", "--decrypt"))
	list := must("key", "list", "--prefix", "p")
	require.Contains(t, list, "pw")
	require.NotContains(t, list, "hunter2")
	require.NotContains(t, list, "region")

	require.Equal(t, "key system.region deleted\n", must("key", "delete", "region"))
	fails("key system.region: not found", "key", "get", "region")
	fails("key system.region: not found", "key", "delete", "region")
}
