package packs

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

const policyAction = "ref: deploy\nrunner_type: noop\nparameters: {environment: {type: string}}\n"

func TestPolicies(t *testing.T) {
	t.Parallel()
	pack, err := Load(packFS(map[string]string{
		"actions/deploy.yaml": policyAction,
		"actions/flaky.yaml":  "ref: flaky\nrunner_type: noop\n",
		"policies/limit.yaml": "name: deploy.concurrency\npack: p\nresource_ref: p.deploy\npolicy_type: action.concurrency.attr\n" +
			"parameters: {threshold: 1, action: cancel, attributes: [environment]}\n",
		"policies/retry.yaml": "name: flaky.retry\nresource_ref: flaky\npolicy_type: action.retry\nparameters: {retry_on: timeout, max_retry_count: 3, delay: 2}\n",
	}), ".", testNow)
	require.NoError(t, err)
	require.Equal(t, []attune.Policy{{Ref: "p.deploy.concurrency", PackRef: "p", ActionRef: "p.deploy", Type: attune.PolicyConcurrencyAttr,
		Threshold: 1, OnFull: attune.PolicyCancel, Attributes: []string{"environment"}}}, pack.Policies)
	for _, a := range pack.Actions {
		if a.Ref == "p.flaky" {
			require.Equal(t, &attune.RetryPolicy{Count: 3, Delay: 2 * time.Second, Backoff: attune.BackoffConstant,
				On: []attune.ExecutionStatus{attune.StatusTimeout}}, a.Retry)
		}
	}
}

func TestPolicyProblems(t *testing.T) {
	t.Parallel()
	tests := []struct{ policy, want string }{
		{"name: x\nresource_ref: deploy\npolicy_type: action.concurrency\n", "policies/x.yaml: policy p.x needs parameters.threshold"},
		{"name: x\nresource_ref: deploy\npolicy_type: action.concurrency\nparameters: {threshold: 0}\n", "policies/x.yaml:4:14: parameters.threshold must be at least 1"},
		{"name: x\nresource_ref: deploy\npolicy_type: action.concurrency\nparameters: {threshold: 1, action: drop}\n", `parameters.action "drop" is not one of delay, cancel`},
		{"name: x\nresource_ref: deploy\npolicy_type: action.concurrency.attr\nparameters: {threshold: 1, attributes: [host]}\n", `action p.deploy has no parameter "host"`},
		{"name: x\nresource_ref: nope\npolicy_type: action.concurrency\nparameters: {threshold: 1}\n", `action "p.nope" is not defined in this pack`},
		{"name: x\nresource_ref: deploy\npolicy_type: action.throttle\n", `policy_type "action.throttle" is not one of action.concurrency, action.concurrency.attr, action.retry`},
		{"resource_ref: deploy\npolicy_type: action.concurrency\n", "policy needs a name"},
	}
	for _, tt := range tests {
		got := problemLines(t, packFS(map[string]string{"actions/deploy.yaml": policyAction, "policies/x.yaml": tt.policy}), ".")
		require.Contains(t, strings.Join(got, "\n"), tt.want)
	}
}
