package packs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/runtimes"
)

// problemStrings returns each problem as file:line:col: message.
func problemStrings(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}

// loadProblems loads files (see packFS) and returns the errors and warnings, as strings.
func loadProblems(t *testing.T, files map[string]string) (errs, warns []string) {
	t.Helper()
	_, w, err := load(packFS(files), ".", time.Now(), func(rel string) string { return rel }, builtinPacks())
	var pe Errors
	if err != nil {
		require.True(t, errors.As(err, &pe), "%v", err)
	}
	return problemStrings(pe), problemStrings(w)
}

// A rule's refs into core are checked against the core pack built into the binary; refs into
// any other pack are warned about, at their key, and checked when the pack is registered.
func TestLoadChecksRefsIntoOtherPacks(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name        string
		rule        string
		errs, warns []string
	}{
		{name: "core refs that exist",
			rule: "ref: r\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 1}\naction_ref: core.http_request\naction_params: {url: \"http://x\"}\n"},
		{name: "unknown core action",
			rule: "ref: r\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 1}\naction_ref: core.ecko\n",
			errs: []string{`rules/r.yaml:4:1: action "core.ecko" is not defined: pack core has no action of that name (its actions: core.ask, core.echo, core.http, core.http_request, core.inject_trigger, core.kv_get, core.kv_set, core.local, core.noop, core.pause, core.sleep)`}},
		{name: "unknown core trigger, nested form",
			rule: "ref: r\ntrigger: {type: core.mqtt}\naction: {ref: core.noop}\n",
			errs: []string{`rules/r.yaml:2:11: trigger "core.mqtt" is not defined: pack core has no trigger of that name (its triggers: core.actiontrigger, core.crontimer, core.datetimetimer, core.inquiry, core.intervaltimer, core.webhook)`}},
		{name: "another pack is not checked",
			rule: "ref: r\ntrigger_ref: github.push\naction_ref: slack.post\n",
			warns: []string{
				"rules/r.yaml:2:1: not checked: pack github is not loaded; trigger github.push must be registered before this pack",
				"rules/r.yaml:3:1: not checked: pack slack is not loaded; action slack.post must be registered before this pack",
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs, warns := loadProblems(t, map[string]string{"rules/r.yaml": tt.rule})
			require.Equal(t, tt.errs, nilIfEmpty(errs))
			require.Equal(t, tt.warns, nilIfEmpty(warns))
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// ValidateDir returns warnings with the pack, and with its errors; LoadDir drops them.
func TestValidateDirWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("pack.yaml", "ref: w\nversion: 1.0.0\n")
	write("rules/r.yaml", "ref: r\ntrigger_ref: other.t\naction_ref: core.noop\n")

	p, warns, err := ValidateDir(context.Background(), dir, time.Now())
	require.NoError(t, err)
	require.NotNil(t, p)
	require.Equal(t, []string{filepath.Join(dir, "rules", "r.yaml") + ":2:1: not checked: pack other is not loaded; trigger other.t must be registered before this pack"},
		problemStrings(warns))

	p, err = LoadDir(dir, time.Now())
	require.NoError(t, err, "a warning does not make a pack invalid")
	require.NotNil(t, p)

	write("rules/bad.yaml", "ref: bad\ntrigger_ref: other.t\naction_ref: core.nope\n")
	p, warns, err = ValidateDir(context.Background(), dir, time.Now())
	require.Nil(t, p)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.Len(t, warns, 2, "warnings come with the errors too")
}

// The parameter list packs checks http actions against is the runtime's.
func TestHTTPParametersMatchRuntime(t *testing.T) {
	t.Parallel()
	require.Equal(t, runtimes.HTTPParameters, httpParameters)
}

func TestLoadActionDeliveryAndHTTP(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		action string
		errs   []string
	}{
		{name: "file delivery, yaml in, jsonl out",
			action: "ref: a\nentry_point: a.sh\nparameter_delivery: file\nparameter_format: yaml\noutput_format: jsonl\nparameters: {x: {type: string}}\n"},
		{name: "file delivery refuses a secret",
			action: "ref: a\nentry_point: a.sh\nparameter_delivery: file\nparameters:\n  token: {type: string, secret: true}\n",
			errs:   []string{`actions/a.yaml:3:1: parameter "token" is secret, and secrets are delivered on stdin only: a file could outlive a crashed worker; use parameter_delivery: stdin`}},
		{name: "http action",
			action: "ref: a\nrunner_type: http-request\nparameters:\n  url: {type: string, default: \"https://example.com\"}\n  method: {type: string, default: POST}\n"},
		{name: "http action with an entry point and unknown parameters",
			action: "ref: a\nrunner_type: http\nentry_point: a.sh\nparameters:\n  url: {type: string}\n  verify_ssl: {type: boolean}\n",
			errs: []string{
				"actions/a.yaml:3:1: runner_type http runs in process, with no script; remove entry_point",
				"actions/a.yaml:6:3: parameter \"verify_ssl\" means nothing to the http runtime; it takes url, method, headers, query, body, json, timeout, auth_type, auth_username, auth_password, auth_token, fail_on_status, follow_redirects, max_redirects, params, allow_redirects, username, password, cookies, verify_ssl_cert",
			}},
		{name: "http action without url",
			action: "ref: a\nrunner_type: http\n",
			errs:   []string{"actions/a.yaml:2:1: an http action needs a url parameter, like url: {type: string, required: true}"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs, _ := loadProblems(t, map[string]string{"actions/a.yaml": tt.action, "actions/a.sh": "cat\n"})
			require.Equal(t, tt.errs, nilIfEmpty(errs))
		})
	}
}
