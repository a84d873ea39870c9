package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// Every endpoint's real responses, successes and errors, match the OpenAPI document served at
// /api/v1/openapi.json, and every operation in it is exercised, so the document cannot drift.
func TestOpenAPIMatchesResponses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.webhookPack()
	raw := b.do("GET", "/api/v1/openapi.json", nil, "Authorization", "")
	require.Equal(t, 200, raw.code)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw.raw), &doc))
	require.Equal(t, "3.1.0", doc["openapi"])
	resource, err := jsonschema.UnmarshalJSON(strings.NewReader(raw.raw))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("https://attune.test/openapi.json", resource))

	covered := map[string]bool{}
	check := func(method, template, path, body string, header ...string) response {
		t.Helper()
		r := b.do(method, path, []byte(body), header...)
		op, ok := doc["paths"].(map[string]any)[template].(map[string]any)[strings.ToLower(method)].(map[string]any)
		require.True(t, ok, "%s %s is not in the document", method, template)
		resp, ok := op["responses"].(map[string]any)[fmt.Sprint(r.code)].(map[string]any)
		require.True(t, ok, "%s %s answered %d, which the document does not list: %s", method, template, r.code, r.raw)
		if r.code == http.StatusNoContent {
			require.Nil(t, resp["content"], "%s %s 204 has no content", method, template)
			require.Empty(t, r.raw)
			covered[method+" "+template] = true
			return r
		}
		ct := strings.Split(r.contentType, ";")[0]
		_, ok = resp["content"].(map[string]any)[ct]
		require.True(t, ok, "%s %s %d: content type %s is not in the document", method, template, r.code, ct)
		ptr := "/paths/" + escape(template) + "/" + strings.ToLower(method) + "/responses/" + fmt.Sprint(r.code) + "/content/" + escape(ct) + "/schema"
		sch, err := c.Compile("https://attune.test/openapi.json#" + ptr)
		require.NoError(t, err)
		var inst any = r.raw // an event stream is text
		if ct != "text/event-stream" {
			inst, err = jsonschema.UnmarshalJSON(bytes.NewReader([]byte(r.raw)))
			require.NoError(t, err)
		}
		require.NoError(t, sch.Validate(inst), "%s %s %d: %s", method, path, r.code, r.raw)
		covered[method+" "+template] = true
		return r
	}

	check("GET", "/healthz", "/healthz", "")
	check("GET", "/readyz", "/readyz", "")
	r := check("POST", "/api/v1/executions", "/api/v1/executions", `{"action": "core.echo", "parameters": {"message": "hi"}}`)
	id := fmt.Sprint(r.body["id"])
	check("POST", "/api/v1/executions", "/api/v1/executions", `{"action": "core.sleep", "parameters": {"seconds": 9999}}`)
	check("POST", "/api/v1/executions", "/api/v1/executions", `{`)
	check("POST", "/api/v1/executions", "/api/v1/executions", `{}`, "Authorization", "")
	b.env.WaitTerminal(t, int64(r.body["id"].(float64)), 30*time.Second)
	check("GET", "/api/v1/executions", "/api/v1/executions?limit=1", "")
	check("GET", "/api/v1/executions", "/api/v1/executions?limit=x", "")
	check("GET", "/api/v1/executions/{id}", "/api/v1/executions/"+id, "")
	check("GET", "/api/v1/executions/{id}", "/api/v1/executions/424242", "")
	check("GET", "/api/v1/executions/{id}/output", "/api/v1/executions/"+id+"/output", "")
	check("GET", "/api/v1/executions/{id}/output", "/api/v1/executions/"+id+"/output?after=x", "")
	check("GET", "/api/v1/executions/{id}/output", "/api/v1/executions/424242/output", "")
	sse := check("GET", "/stream/v1/executions/{id}/output", "/stream/v1/executions/"+id+"/output", "")
	require.Contains(t, sse.raw, "event: EOF")
	check("GET", "/stream/v1/executions/{id}/output", "/stream/v1/executions/424242/output", "")
	check("GET", "/stream/v1/stream", "/stream/v1/stream?events=nope", "")
	check("GET", "/stream/v1/stream", "/stream/v1/stream", "", "Authorization", "")
	r = check("POST", "/api/v1/executions/{id}/re_run", "/api/v1/executions/"+id+"/re_run", `{"parameters": {"message": "again"}}`)
	require.Equal(t, id, fmt.Sprint(r.body["rerun_of"]))
	check("POST", "/api/v1/executions/{id}/re_run", "/api/v1/executions/"+id+"/re_run", `{"parameters": {"colour": 1}}`)
	check("POST", "/api/v1/executions/{id}/re_run", "/api/v1/executions/424242/re_run", ``)
	b.registerPack(livePack)
	running := fmt.Sprint(b.run("live.graceful"))
	require.Eventually(t, func() bool {
		return strings.Contains(b.do("GET", "/api/v1/executions/"+running+"/output", nil).raw, "started")
	}, 30*time.Second, 20*time.Millisecond)
	check("POST", "/api/v1/executions/{id}/cancel", "/api/v1/executions/"+running+"/cancel", "")
	b.env.WaitTerminal(t, int64(b.do("GET", "/api/v1/executions/"+running, nil).body["id"].(float64)), 30*time.Second)
	check("POST", "/api/v1/executions/{id}/cancel", "/api/v1/executions/"+running+"/cancel", "")
	check("POST", "/api/v1/executions/{id}/cancel", "/api/v1/executions/424242/cancel", "")
	for _, verb := range []string{"pause", "resume"} {
		check("POST", "/api/v1/executions/{id}/"+verb, "/api/v1/executions/"+running+"/"+verb, "") // not a workflow
		check("POST", "/api/v1/executions/{id}/"+verb, "/api/v1/executions/424242/"+verb, "")
	}
	b.registerPack(map[string]string{
		"pack.yaml":        "ref: flow\nversion: 1.0.0\n",
		"actions/two.yaml": "ref: two\nrunner_type: orquesta\nentry_point: workflows/two.yaml\n",
		"actions/workflows/two.yaml": "version: 1.0\ntasks:\n  first:\n    action: core.sleep seconds=1\n" +
			"    next:\n      - do: second\n  second:\n    action: core.noop\n",
	})
	wf := b.run("flow.two")
	check("POST", "/api/v1/executions/{id}/pause", fmt.Sprintf("/api/v1/executions/%d/pause", wf), "")
	check("POST", "/api/v1/executions/{id}/resume", fmt.Sprintf("/api/v1/executions/%d/resume", wf), "")
	require.Equal(t, attune.StatusCompleted, b.env.WaitTerminal(t, wf, 30*time.Second).Status)
	check("POST", "/api/v1/executions/{id}/pause", fmt.Sprintf("/api/v1/executions/%d/pause", wf), "")
	kids, err := b.env.DB.AutoCommit().WorkflowChildren(context.Background(), wf)
	require.NoError(t, err)
	child := check("GET", "/api/v1/executions/{id}", fmt.Sprintf("/api/v1/executions/%d", kids[1].ID), "")
	require.Equal(t, map[string]any{"id": float64(wf), "task": "second", "route": float64(0), "item": float64(-1), "retry": float64(0)},
		child.body["parent"])
	check("DELETE", "/api/v1/executions/{id}", "/api/v1/executions/"+running, "")
	check("PUT", "/api/v1/keys/{name}", "/api/v1/keys/host.web1", `{"value": "done", "ttl": "1h"}`)
	check("PUT", "/api/v1/keys/{name}", "/api/v1/keys/pw?scope=user:ann", `{"value": "s3cret", "secret": true}`)
	check("PUT", "/api/v1/keys/{name}", "/api/v1/keys/bad", `{"value": 1}`)
	check("GET", "/api/v1/keys", "/api/v1/keys", "")
	check("GET", "/api/v1/keys", "/api/v1/keys?scope=nobody", "")
	check("GET", "/api/v1/keys/{name}", "/api/v1/keys/host.web1", "")
	check("GET", "/api/v1/keys/{name}", "/api/v1/keys/pw?scope=user:ann", "")
	check("GET", "/api/v1/keys/{name}", "/api/v1/keys/nope", "")
	check("DELETE", "/api/v1/keys/{name}", "/api/v1/keys/host.web1", "")
	check("DELETE", "/api/v1/keys/{name}", "/api/v1/keys/host.web1", "")
	r = check("POST", "/api/v1/events", "/api/v1/events", `{"trigger": "core.webhook", "payload": {"webhook": "deploy"}}`)
	ev := fmt.Sprint(r.body["event_id"])
	check("POST", "/api/v1/events", "/api/v1/events", `{"trigger": 7}`)
	check("GET", "/api/v1/events", "/api/v1/events", "")
	require.Eventually(t, func() bool {
		return len(b.do("GET", "/api/v1/events/"+ev, nil).body["rules"].([]any)) > 0
	}, 30*time.Second, 50*time.Millisecond)
	check("GET", "/api/v1/events/{id}", "/api/v1/events/"+ev, "")
	check("GET", "/api/v1/events/{id}", "/api/v1/events/0", "")
	check("GET", "/api/v1/rules", "/api/v1/rules", "")
	check("GET", "/api/v1/rules/{ref}", "/api/v1/rules/hooks.deploy", "")
	check("GET", "/api/v1/rules/{ref}", "/api/v1/rules/hooks.nope", "")
	check("PUT", "/api/v1/rules/{ref}", "/api/v1/rules/hooks.other", `{"enabled": false}`)
	check("PUT", "/api/v1/rules/{ref}", "/api/v1/rules/hooks.other", `{"enabled": 1}`)
	check("GET", "/api/v1/actions", "/api/v1/actions", "")
	check("GET", "/api/v1/actions/{ref}", "/api/v1/actions/core.http_request", "")
	check("GET", "/api/v1/actions/{ref}", "/api/v1/actions/core.nope", "")
	check("GET", "/api/v1/packs", "/api/v1/packs", "")
	ask := b.ask(`{"users": ["someone-else"]}`)
	check("GET", "/api/v1/inquiries", "/api/v1/inquiries", "")
	check("GET", "/api/v1/inquiries", "/api/v1/inquiries?status=nope", "")
	check("GET", "/api/v1/inquiries", "/api/v1/inquiries", "", "Authorization", "")
	check("GET", "/api/v1/inquiries/{id}", "/api/v1/inquiries/"+ask, "")
	check("GET", "/api/v1/inquiries/{id}", "/api/v1/inquiries/424242", "")
	check("GET", "/api/v1/inquiries/{id}", "/api/v1/inquiries/x", "")
	check("GET", "/api/v1/inquiries/{id}", "/api/v1/inquiries/"+ask, "", "Authorization", "")
	check("PUT", "/api/v1/inquiries/{id}", "/api/v1/inquiries/"+ask, `{"response": {"continue": true}}`)
	ask = b.ask(`{}`)
	check("PUT", "/api/v1/inquiries/{id}", "/api/v1/inquiries/"+ask, `{"response": {"continue": 1}}`)
	check("PUT", "/api/v1/inquiries/{id}", "/api/v1/inquiries/"+ask, `{`)
	check("PUT", "/api/v1/inquiries/{id}", "/api/v1/inquiries/"+ask, `{}`, "Authorization", "")
	check("PUT", "/api/v1/inquiries/{id}", "/api/v1/inquiries/"+ask, `{"response": {"continue": true}}`)
	check("PUT", "/api/v1/inquiries/{id}", "/api/v1/inquiries/"+ask, `{"response": {"continue": true}}`)
	check("PUT", "/api/v1/inquiries/{id}", "/api/v1/inquiries/424242", `{"response": {}}`)
	check("POST", "/api/v1/webhooks/{name}", "/api/v1/webhooks/deploy", `{"a": 1}`, "Idempotency-Key", "x")
	check("POST", "/api/v1/webhooks/{name}", "/api/v1/webhooks/deploy", `{"a": 1}`, "Idempotency-Key", "x")
	check("POST", "/api/v1/webhooks/{name}", "/api/v1/webhooks/deploy", `{"a": 1}`, "Authorization", "")
	check("POST", "/api/v1/webhooks/{name}", "/api/v1/webhooks/nobody", `{}`)

	for path, ops := range doc["paths"].(map[string]any) {
		for method := range ops.(map[string]any) {
			require.True(t, covered[strings.ToUpper(method)+" "+path], "%s %s is never exercised", method, path)
		}
	}
}

// escape encodes a JSON pointer token, then percent-encodes what a URL fragment cannot hold.
func escape(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
	return strings.NewReplacer("{", "%7B", "}", "%7D", "*", "%2A").Replace(s)
}
