package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/httpapi"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/internal/pgtest"
	"github.com/attune-run/attune/packs"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// bundle is one test's attune with its HTTP API and a live key.
type bundle struct {
	t   *testing.T
	env *attunetest.Env
	url string
	key string
	srv *httpapi.Server
}

func setup(t *testing.T, opts ...attunetest.Options) *bundle {
	t.Helper()
	env := attunetest.New(t, opts...)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := httpapi.New(httpapi.Config{MaxBody: 1 << 20, MetricsRefresh: 10 * time.Millisecond}, httpapi.Deps{
		DB: env.DB, Pipeline: env.P, Registry: env.Registry, Secrets: env.P.Secrets,
		RiverStarted: func() bool { return true }, Log: log, Hub: env.Hub,
	})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	key, hash := httpapi.NewKey()
	_, err := env.DB.AutoCommit().APIKeyInsert(context.Background(), "test", hash)
	require.NoError(t, err)
	return &bundle{t: t, env: env, url: ts.URL, key: key, srv: s}
}

// registerPack writes and registers a pack.
func (b *bundle) registerPack(files map[string]string) {
	b.t.Helper()
	p, err := packs.LoadDir(attunetest.WritePack(b.t, files), time.Now())
	require.NoError(b.t, err)
	_, err = b.env.Registry.RegisterPack(context.Background(), p)
	require.NoError(b.t, err)
}

// response is a reply with its body decoded.
type response struct {
	code        int
	contentType string
	body        map[string]any
	raw         string
}

// do sends a request with the key (unless header overrides it) and decodes the reply.
func (b *bundle) do(method, path string, body []byte, header ...string) response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.url+path, bytes.NewReader(body))
	require.NoError(b.t, err)
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	r := response{code: res.StatusCode, contentType: res.Header.Get("Content-Type"), raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// fieldsOf lists the fields of a problem's errors.
func fieldsOf(r response) []string {
	var out []string
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

func (b *bundle) count(table string) int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.env.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

// No key, a wrong one or a revoked one gets 401 with a JSON problem; the three ways of sending
// a key work; a revocation takes effect on the next request.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do("GET", "/api/v1/executions", nil, "Authorization", "")
	require.Equal(t, 401, r.code)
	require.Equal(t, "application/problem+json", r.contentType)
	require.Contains(t, r.body["detail"], "needs an API key")
	r = b.do("GET", "/api/v1/executions", nil, "Authorization", "Bearer attune_wrong")
	require.Equal(t, 401, r.code)
	require.Contains(t, r.body["detail"], "not valid or was revoked")

	require.Equal(t, 200, b.do("GET", "/api/v1/executions", nil).code)
	require.Equal(t, 200, b.do("GET", "/api/v1/executions", nil, "Authorization", "", "St2-Api-Key", b.key).code)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("anyone:"+b.key))
	require.Equal(t, 200, b.do("GET", "/api/v1/executions", nil, "Authorization", basic).code)

	keys, err := b.env.DB.AutoCommit().APIKeys(context.Background())
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.NotNil(t, keys[0].LastUsedAt, "a use is recorded")

	require.NoError(t, b.env.DB.AutoCommit().APIKeyRevoke(context.Background(), "test"))
	r = b.do("GET", "/api/v1/executions", nil)
	require.Equal(t, 401, r.code, "revoked at once")

	// Health needs no key.
	require.Equal(t, 200, b.do("GET", "/healthz", nil, "Authorization", "").code)
	r = b.do("GET", "/readyz", nil, "Authorization", "")
	require.Equal(t, 200, r.code, r.raw)
	require.Equal(t, true, r.body["ready"])
}

// POST /executions runs an action as attune run does and answers 201; the execution, with its
// history and attempts, is readable; secret parameters read ********.
func TestCreateExecutionRunsIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.registerPack(map[string]string{
		"pack.yaml":         "ref: sec\nversion: 1.0.0\n",
		"actions/tok.yaml":  "ref: tok\nrunner_type: noop\nparameters:\n  token: {type: string, secret: true, required: true}\n  n: {type: integer, default: 3}\n",
		"actions/echo.yaml": "ref: echo\nrunner_type: noop\n",
	})
	r := b.do("POST", "/api/v1/executions", []byte(`{"action": "sec.tok", "parameters": {"token": "hunter2"}}`))
	require.Equal(t, 201, r.code, r.raw)
	id := int64(r.body["id"].(float64))
	require.Equal(t, map[string]any{"token": "********", "n": float64(3)}, r.body["parameters"], "defaults applied, secret redacted")
	b.env.WaitTerminal(t, id, 30*time.Second)

	r = b.do("GET", "/api/v1/executions/"+jsonID(id), nil)
	require.Equal(t, 200, r.code)
	require.Equal(t, "completed", r.body["status"])
	require.NotContains(t, r.raw, "hunter2")
	require.Len(t, r.body["history"], 3)
	require.Len(t, r.body["attempts"], 1)

	r = b.do("GET", "/api/v1/executions/999999", nil)
	require.Equal(t, 404, r.code)
	require.Equal(t, "application/problem+json", r.contentType)
	require.Equal(t, 400, b.do("GET", "/api/v1/executions/abc", nil).code)
}

func jsonID(id int64) string { b, _ := json.Marshal(id); return string(b) }

// Bad input to POST /executions gets a clear error and runs nothing: every field at fault is
// listed in one 422; malformed JSON, non-UTF-8 and deep nesting are 400; a 10 MB body is 413.
func TestCreateExecutionBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do("POST", "/api/v1/executions", []byte(`{"action": "core.sleep", "parameters": {"seconds": "x", "colour": 1}, "timeout": "soon", "bogus": 1}`))
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, "application/problem+json", r.contentType)
	require.Equal(t, []string{"bogus", "parameters.colour", "parameters.seconds", "timeout"}, fieldsOf(r))

	r = b.do("POST", "/api/v1/executions", []byte(`{"action": "core.sleep", "parameters": {"seconds": 5000}}`))
	require.Equal(t, 422, r.code)
	require.Equal(t, []string{"parameters.seconds"}, fieldsOf(r))
	require.Contains(t, r.raw, "must be <= 3600")

	r = b.do("POST", "/api/v1/executions", []byte(`{"action": "nope.nothing"}`))
	require.Equal(t, 422, r.code)
	require.Equal(t, []string{"action"}, fieldsOf(r))
	require.Contains(t, r.raw, "not registered")

	r = b.do("POST", "/api/v1/executions", []byte(`{"action": "core.echo", "parameters": "message=hi"}`))
	require.Equal(t, 422, r.code, "a wrong type")
	require.Equal(t, []string{"parameters"}, fieldsOf(r))

	r = b.do("POST", "/api/v1/executions", []byte(`{"action": "core.echo",`))
	require.Equal(t, 400, r.code)
	require.Contains(t, r.body["detail"], "not valid JSON")

	r = b.do("POST", "/api/v1/executions", []byte("{\"action\": \"core.echo\", \"parameters\": {\"message\": \"\xff\xfe\"}}"))
	require.Equal(t, 400, r.code)
	require.Contains(t, r.body["detail"], "UTF-8")

	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	r = b.do("POST", "/api/v1/executions", []byte(`{"action": "core.echo", "parameters": {"message": `+deep+`}}`))
	require.Equal(t, 400, r.code)
	require.Contains(t, r.body["detail"], "nested more than 64 levels")

	big := `{"action": "core.echo", "parameters": {"message": "` + strings.Repeat("x", 10<<20) + `"}}`
	r = b.do("POST", "/api/v1/executions", []byte(big))
	require.Equal(t, 413, r.code)
	require.Contains(t, r.body["detail"], "http.max_body")

	require.Equal(t, 0, b.count("attune.execution"), "nothing was run")
}

// GET /executions pages newest first with a keyset cursor and filters by action.
func TestListExecutionsPages(t *testing.T) {
	t.Parallel()
	b := setup(t, attunetest.Options{NoStart: true})
	var ids []float64
	for _, ref := range []string{"core.noop", "core.noop", "core.echo"} {
		r := b.do("POST", "/api/v1/executions", []byte(`{"action": "`+ref+`", "parameters": {}}`))
		require.Equal(t, 201, r.code, r.raw)
		ids = append(ids, r.body["id"].(float64))
	}
	r := b.do("GET", "/api/v1/executions?limit=2", nil)
	require.Equal(t, 200, r.code)
	items := r.body["items"].([]any)
	require.Len(t, items, 2)
	require.Equal(t, ids[2], items[0].(map[string]any)["id"], "newest first")
	next := r.body["next_after"].(float64)
	r = b.do("GET", "/api/v1/executions?limit=2&after="+jsonID(int64(next)), nil)
	require.Len(t, r.body["items"], 1)
	require.Nil(t, r.body["next_after"])

	r = b.do("GET", "/api/v1/executions?action=core.noop", nil)
	require.Len(t, r.body["items"], 2)
	r = b.do("GET", "/api/v1/executions?status=bogus&limit=0", nil)
	require.Equal(t, 400, r.code)
	require.Equal(t, []string{"limit", "status"}, fieldsOf(r))
}

// POST /events records an event as attune event emit does (202 {event_id}); its rules run and
// GET /events/{id} says what each made of it. Unknown and timer triggers are 422.
func TestEventsAndRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.registerPack(map[string]string{
		"pack.yaml":           "ref: shop\nversion: 1.0.0\n",
		"triggers/paid.yaml":  "ref: order_paid\n",
		"actions/note.yaml":   "ref: note\nrunner_type: noop\nparameters:\n  order: {type: integer}\n",
		"rules/big.yaml":      "ref: big\ntrigger_ref: order_paid\naction_ref: note\ncriteria: {expression: \"event.payload.total > 100\"}\naction_params: {order: \"{{ event.payload.order }}\"}\n",
		"rules/everyone.yaml": "ref: everyone\ntrigger_ref: order_paid\naction_ref: note\n",
	})
	r := b.do("POST", "/api/v1/events", []byte(`{"trigger": "shop.order_paid", "payload": {"order": 42, "total": 5}}`))
	require.Equal(t, 202, r.code, r.raw)
	id := int64(r.body["event_id"].(float64))
	require.Eventually(t, func() bool {
		r = b.do("GET", "/api/v1/events/"+jsonID(id), nil)
		return len(r.body["rules"].([]any)) == 2
	}, 30*time.Second, 50*time.Millisecond)
	outcomes := map[string]string{}
	for _, x := range r.body["rules"].([]any) {
		m := x.(map[string]any)
		outcomes[m["rule_ref"].(string)] = m["outcome"].(string)
	}
	require.Equal(t, map[string]string{"shop.big": "not_matched", "shop.everyone": "matched"}, outcomes)

	r = b.do("POST", "/api/v1/events", []byte(`{"trigger": "shop.nope", "payload": []}`))
	require.Equal(t, 422, r.code)
	require.Equal(t, []string{"payload"}, fieldsOf(r))
	r = b.do("POST", "/api/v1/events", []byte(`{"trigger": "shop.nope"}`))
	require.Equal(t, []string{"trigger"}, fieldsOf(r))
	r = b.do("POST", "/api/v1/events", []byte(`{"trigger": "core.intervaltimer"}`))
	require.Equal(t, 422, r.code)
	require.Contains(t, r.raw, "timer trigger")

	r = b.do("GET", "/api/v1/events?trigger=shop.order_paid", nil)
	require.Len(t, r.body["items"], 1)

	// Rules: list, get, disable.
	r = b.do("GET", "/api/v1/rules/shop.everyone", nil)
	require.Equal(t, true, r.body["enabled"])
	r = b.do("PUT", "/api/v1/rules/shop.everyone", []byte(`{"enabled": false}`))
	require.Equal(t, 200, r.code, r.raw)
	require.Equal(t, false, r.body["enabled"])
	r = b.do("PUT", "/api/v1/rules/shop.everyone", []byte(`{"enabled": "no"}`))
	require.Equal(t, 422, r.code)
	require.Equal(t, 404, b.do("PUT", "/api/v1/rules/shop.nope", []byte(`{"enabled": true}`)).code)
	r = b.do("GET", "/api/v1/rules", nil)
	require.Len(t, r.body["items"], 2)

	// Actions and packs.
	r = b.do("GET", "/api/v1/actions/core.sleep", nil)
	require.Equal(t, 200, r.code)
	require.Contains(t, r.body["parameters"], "seconds")
	require.Equal(t, 404, b.do("GET", "/api/v1/actions/core.nope", nil).code)
	r = b.do("GET", "/api/v1/packs", nil)
	require.Len(t, r.body["items"], 2)
}

// /metrics needs a key and serves Prometheus text: request counters by route pattern (never an
// id) and the database gauges.
func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t, attunetest.Options{NoStart: true})
	require.Equal(t, 201, b.do("POST", "/api/v1/executions", []byte(`{"action": "core.noop"}`)).code)
	require.Equal(t, 401, b.do("GET", "/metrics", nil, "Authorization", "").code)
	r := b.do("GET", "/metrics", nil)
	require.Equal(t, 200, r.code)
	for _, want := range []string{
		`attune_http_requests_total{code="201",route="POST /api/v1/executions"} 1`,
		`attune_executions{status="scheduled"} 1`,
		`attune_queue_jobs{queue="attune_runtime_noop",state="available"} 1`,
		`attune_queue_oldest_age_seconds{queue="attune_runtime_noop"}`,
	} {
		require.Contains(t, r.raw, want)
	}
}

// Executions that finish and events that are recorded after the first scrape are counted, by
// action and status, trigger and source, with run-time and queue-wait histograms.
func TestMetricsCountExecutionsAndEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, 200, b.do("GET", "/metrics", nil).code) // the starting point
	r := b.do("POST", "/api/v1/executions", []byte(`{"action": "core.noop"}`))
	require.Equal(t, 201, r.code)
	b.env.WaitTerminal(t, int64(r.body["id"].(float64)), 30*time.Second)
	require.Equal(t, 202, b.do("POST", "/api/v1/events", []byte(`{"trigger": "core.webhook"}`)).code)
	want := []string{
		`attune_executions_total{action="core.noop",status="completed"} 1`,
		`attune_execution_duration_seconds_count{action="core.noop"} 1`,
		`attune_execution_queue_wait_seconds_count{action="core.noop"} 1`,
		`attune_events_total{source="webhook",trigger="core.webhook"} 1`,
	}
	var last string
	require.Eventually(t, func() bool {
		last = b.do("GET", "/metrics", nil).raw
		for _, w := range want {
			if !strings.Contains(last, w) {
				return false
			}
		}
		return true
	}, 30*time.Second, 200*time.Millisecond, "the counters never appeared")
}
