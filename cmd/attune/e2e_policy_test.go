package main_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A pack's policies/*.yaml, registered from the real binary, show in attune policy list.
func TestE2EPolicyList(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	dir := filepath.Join(in.dir, "deploys")
	writeFiles(t, dir, map[string]string{
		"pack.yaml":           "ref: deploys\nversion: 1.0.0\n",
		"actions/deploy.yaml": "ref: deploy\nrunner_type: noop\nparameters: {environment: {type: string}}\n",
		"policies/limit.yaml": "name: deploy.concurrency\npack: deploys\nresource_ref: deploys.deploy\n" +
			"policy_type: action.concurrency.attr\nparameters: {threshold: 1, action: delay, attributes: [environment]}\n",
	})
	_, errOut, code := in.attune("pack", "register", dir)
	require.Equal(t, 0, code, errOut)
	out, errOut, code := in.attune("policy", "list", "--json")
	require.Equal(t, 0, code, errOut)
	var ps []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &ps), out)
	require.Equal(t, []map[string]any{{
		"ref": "deploys.deploy.concurrency", "action": "deploys.deploy", "policy_type": "action.concurrency.attr",
		"threshold": float64(1), "action_when_full": "delay", "attributes": []any{"environment"},
		"slots_in_use": float64(0), "waiting": float64(0),
	}}, ps)
	out, errOut, code = in.attune("policy", "list")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "deploys.deploy.concurrency")
	require.Contains(t, out, "0/1")
}
