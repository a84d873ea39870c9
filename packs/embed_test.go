package packs

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

func actionRefs(p *attune.Pack) []string {
	var refs []string
	for _, a := range p.Actions {
		refs = append(refs, a.Ref)
	}
	return refs
}

func triggerRefs(p *attune.Pack) []string {
	var refs []string
	for _, t := range p.Triggers {
		refs = append(refs, t.Ref)
	}
	return refs
}

func TestCore(t *testing.T) {
	t.Parallel()

	core, err := Core()
	require.NoError(t, err)
	require.Equal(t, "core", core.Ref)
	require.Equal(t, "1.0.0", core.Version)
	require.ElementsMatch(t, []string{"core.echo", "core.http", "core.http_request", "core.kv_get", "core.kv_set", "core.local", "core.noop", "core.sleep", "core.inject_trigger", "core.pause", "core.ask"}, actionRefs(core))
	require.ElementsMatch(t, []string{attune.TriggerInterval, attune.TriggerCron, attune.TriggerDatetime, attune.TriggerWebhook, attune.TriggerAction, attune.TriggerInquiry}, triggerRefs(core))
	require.Empty(t, core.Rules)

	for _, a := range core.Actions {
		switch a.Ref {
		case "core.ask":
			require.Equal(t, attune.RuntimeInquirer, a.Runtime)
			require.Empty(t, a.EntryPoint)
			require.EqualValues(t, 1440, a.Parameters["ttl"].Default)
			require.Equal(t, "object", a.Parameters["schema"].Default.(map[string]any)["type"])
		case "core.echo":
			require.Equal(t, attune.RuntimeShell, a.Runtime)
			require.Equal(t, "echo.sh", a.EntryPoint)
			require.Equal(t, attune.ParamsDotenv, a.ParameterFormat)
			require.Equal(t, attune.OutputText, a.OutputFormat)
			require.Equal(t, attune.ParamSpec{Type: "string", Description: "The message to print.", Default: ""}, a.Parameters["message"])
			require.Contains(t, string(a.EntryContent), `eval "$params"`)
			require.NotContains(t, string(a.EntryContent), `eval "$(cat)"`, "no cat process per run")
			require.Contains(t, string(a.EntryContent), `printf '%s\n' "$message"`)
		case "core.noop":
			require.Equal(t, attune.RuntimeNoop, a.Runtime)
			require.Empty(t, a.EntryPoint)
			require.Equal(t, "Does nothing, in process; returns its parameters.", a.Description)
			require.Equal(t, "string", a.Parameters["message"].Type)
		case "core.sleep":
			require.Equal(t, attune.RuntimeShell, a.Runtime)
			require.Equal(t, "sleep.sh", a.EntryPoint)
			require.Equal(t, attune.ParamsDotenv, a.ParameterFormat)
			seconds := a.Parameters["seconds"]
			require.Equal(t, "integer", seconds.Type)
			require.True(t, seconds.Required)
			require.Equal(t, 1.0, seconds.Default)
			require.Equal(t, 0.0, *seconds.Minimum)
			require.Equal(t, 3600.0, *seconds.Maximum)
			require.Equal(t, "string", a.Parameters["message"].Type)
			require.Contains(t, string(a.EntryContent), `sleep "$seconds"`)
		case "core.http_request":
			require.Equal(t, attune.RuntimeHTTP, a.Runtime)
			require.Empty(t, a.EntryPoint)
			require.Empty(t, a.EntryContent)
			require.ElementsMatch(t, httpParameters[:14], slices.Collect(maps.Keys(a.Parameters)), "every parameter of the http runtime, in attune's names")
			require.True(t, a.Parameters["url"].Required)
			require.Equal(t, "GET", a.Parameters["method"].Default)
			require.Equal(t, []any{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}, a.Parameters["method"].Enum)
			require.Equal(t, 30.0, a.Parameters["timeout"].Default)
			require.Equal(t, []any{"none", "basic", "bearer"}, a.Parameters["auth_type"].Enum)
			require.True(t, a.Parameters["auth_password"].Secret)
			require.True(t, a.Parameters["auth_token"].Secret)
			require.Nil(t, a.Parameters["fail_on_status"].Default, "HTTP errors do not fail the action unless asked")
			require.Equal(t, true, a.Parameters["follow_redirects"].Default)
		case "core.http":
			require.Equal(t, attune.RuntimeHTTP, a.Runtime)
			require.ElementsMatch(t, []string{"url", "method", "body", "headers", "cookies", "params", "timeout", "username", "password", "allow_redirects", "verify_ssl_cert"},
				slices.Collect(maps.Keys(a.Parameters)), "StackStorm's core.http parameters")
			require.True(t, a.Parameters["password"].Secret)
		}
	}
	for _, tr := range core.Triggers {
		if tr.Ref == attune.TriggerWebhook {
			require.True(t, tr.Parameters["url"].Required)
			require.ElementsMatch(t, []string{"body", "headers", "query", "webhook"}, slices.Collect(maps.Keys(tr.Payload)))
			continue
		}
		if tr.Ref == attune.TriggerAction {
			require.Empty(t, tr.Parameters)
			for _, k := range []string{"execution_id", "status", "action_name", "action_ref", "runner_ref", "parameters", "result", "start_timestamp", "end_timestamp"} {
				require.Contains(t, tr.Payload, k, "StackStorm's actiontrigger field %s", k)
			}
			continue
		}
		if tr.Ref == attune.TriggerInquiry {
			require.ElementsMatch(t, []string{"id", "route", "users", "schema", "ttl"}, slices.Collect(maps.Keys(tr.Payload)))
			continue
		}
		require.Contains(t, tr.Payload, "scheduled_at", tr.Ref)
		require.Contains(t, tr.Payload, "fired_at", tr.Ref)
		switch tr.Ref {
		case attune.TriggerInterval:
			require.True(t, tr.Parameters["interval"].Required)
			require.Equal(t, []any{"seconds", "minutes", "hours", "days"}, tr.Parameters["unit"].Enum)
			require.Equal(t, "seconds", tr.Parameters["unit"].Default)
		case attune.TriggerCron:
			require.True(t, tr.Parameters["expression"].Required)
			require.Equal(t, "UTC", tr.Parameters["timezone"].Default)
		case attune.TriggerDatetime:
			require.True(t, tr.Parameters["fire_at"].Required)
			require.Contains(t, tr.Parameters, "timezone")
		}
	}
}

func TestCoreReturnsAFreshCopy(t *testing.T) {
	t.Parallel()

	a, err := Core()
	require.NoError(t, err)
	a.Actions[0].Parameters["changed"] = attune.ParamSpec{Type: "string"}
	b, err := Core()
	require.NoError(t, err)
	require.NotContains(t, b.Actions[0].Parameters, "changed")
}

func TestDemo(t *testing.T) {
	t.Parallel()

	demo, err := Demo()
	require.NoError(t, err)
	require.Equal(t, "demo", demo.Ref)
	require.Equal(t, "1.0.0", demo.Version)
	require.Len(t, demo.Rules, 1)
	require.Equal(t, attune.Rule{
		Ref:           "demo.echo_every_5s",
		PackRef:       "demo",
		Label:         "Echo every 5 seconds",
		Description:   "Runs core.echo on every tick of a five-second interval timer.",
		TriggerRef:    attune.TriggerInterval,
		ActionRef:     "core.echo",
		Enabled:       true,
		ActionParams:  map[string]any{"message": "hello from attune, tick scheduled at {{ event.payload.scheduled_at }}"},
		TriggerParams: map[string]any{"interval": 5.0, "unit": "seconds"},
	}, demo.Rules[0])

	// What the demo rule points at is in the core pack.
	core, err := Core()
	require.NoError(t, err)
	require.True(t, slices.Contains(actionRefs(core), demo.Rules[0].ActionRef))
	require.True(t, slices.Contains(triggerRefs(core), demo.Rules[0].TriggerRef))
}
