package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/httpapi"
)

// livePack has a shell action that prints lines with pauses between, and one that prints, then
// waits to be stopped and says so when it gets SIGTERM.
var livePack = map[string]string{
	"pack.yaml": "ref: live\nversion: 1.0.0\n",
	"actions/lines.yaml": "ref: lines\nentry_point: lines.sh\nparameter_format: dotenv\n" +
		"parameters:\n  dir: {type: string, default: /nonexistent}\n",
	// The last line waits for $dir/go, when dir is given.
	"actions/lines.sh": "eval \"$(cat)\"\nfor i in 1 2 3; do echo line $i; sleep 0.3; done\necho oops >&2\n" +
		"while [ \"$dir\" != /nonexistent ] && [ ! -e \"$dir/go\" ]; do sleep 0.02; done\necho done\n",
	"actions/graceful.yaml": "ref: graceful\nentry_point: graceful.sh\n",
	"actions/graceful.sh":   "trap 'echo got TERM; exit 0' TERM\necho started\nwhile :; do sleep 0.05; done\n",
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ id, name, data string }

// sseStream reads the events of a stream as they arrive.
type sseStream struct {
	t    *testing.T
	res  *http.Response
	r    *bufio.Reader
	stop context.CancelFunc
}

// stream opens an SSE stream with the key; header pairs are added to the request.
func (b *bundle) stream(path string, header ...string) *sseStream {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", b.url+path, nil)
	require.NoError(b.t, err)
	req.Header.Set("Authorization", "Bearer "+b.key)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	require.Equal(b.t, 200, res.StatusCode)
	require.Equal(b.t, "text/event-stream", res.Header.Get("Content-Type"))
	s := &sseStream{t: b.t, res: res, r: bufio.NewReader(res.Body), stop: cancel}
	b.t.Cleanup(s.close)
	return s
}

func (s *sseStream) close() { s.stop(); s.res.Body.Close() }

// next returns the next event (skipping comments), or ok false when the stream ended.
func (s *sseStream) next() (ev sseEvent, ok bool) {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, false
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				return ev, true
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

// untilEOF reads every event up to and including EOF, and checks the stream then ends.
func (s *sseStream) untilEOF() []sseEvent {
	s.t.Helper()
	var evs []sseEvent
	for {
		ev, ok := s.next()
		require.True(s.t, ok, "the stream ended without EOF after %v", evs)
		evs = append(evs, ev)
		if ev.name == "EOF" {
			_, more := s.next()
			require.False(s.t, more, "an event after EOF")
			return evs
		}
	}
}

func (b *bundle) run(action string) int64 {
	b.t.Helper()
	r := b.do("POST", "/api/v1/executions", []byte(`{"action": "`+action+`"}`))
	require.Equal(b.t, 201, r.code, r.raw)
	return int64(r.body["id"].(float64))
}

// Cancel over HTTP stops a running action (it gets SIGTERM), names the key that asked, and a
// second cancel is 409 "already completed"; the stored output is listed with after; a re-run
// gets the old parameters merged with the new, rerun_of set, and bad parameters get 422 listing
// every field.
func TestCancelOutputAndRerun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.registerPack(livePack)
	id := b.run("live.graceful")
	path := fmt.Sprintf("/api/v1/executions/%d", id)
	require.Eventually(t, func() bool {
		r := b.do("GET", path+"/output", nil)
		return strings.Contains(r.raw, "started")
	}, 30*time.Second, 20*time.Millisecond)
	r := b.do("POST", path+"/cancel", nil)
	require.Equal(t, 202, r.code, r.raw)
	require.Equal(t, "canceling", r.body["status"])
	x := b.env.WaitTerminal(t, id, 30*time.Second)
	require.Equal(t, "cancelled", string(x.Status))
	require.Contains(t, x.Error, "cancelled by api:test")
	r = b.do("DELETE", path, nil)
	require.Equal(t, 409, r.code, r.raw)
	require.Equal(t, "application/problem+json", r.contentType)
	require.Contains(t, r.body["detail"], "already completed (cancelled)")
	require.Equal(t, 404, b.do("POST", "/api/v1/executions/424242/cancel", nil).code)
	require.Equal(t, 404, b.do("DELETE", "/api/v1/executions/424242", nil).code)

	r = b.do("GET", path+"/output", nil)
	require.Equal(t, 200, r.code, r.raw)
	require.Regexp(t, `^\[\{"seq":1,"stream":"stdout","data":"started\\n","at":"[^"]+"\}`, r.raw)
	require.Contains(t, r.raw, "got TERM")
	r = b.do("GET", path+"/output?after=1", nil)
	require.NotContains(t, r.raw, "started")
	require.Contains(t, r.raw, "got TERM")
	require.Equal(t, 400, b.do("GET", path+"/output?after=x", nil).code)

	r = b.do("POST", "/api/v1/executions", []byte(`{"action": "core.echo", "parameters": {"message": "first"}}`))
	echo := int64(r.body["id"].(float64))
	b.env.WaitTerminal(t, echo, 30*time.Second)
	r = b.do("POST", fmt.Sprintf("/api/v1/executions/%d/re_run", echo), []byte(`{"parameters": {"message": "again"}}`))
	require.Equal(t, 201, r.code, r.raw)
	require.Equal(t, float64(echo), r.body["rerun_of"])
	require.Equal(t, "again", r.body["parameters"].(map[string]any)["message"])
	rerun := int64(r.body["id"].(float64))
	require.Contains(t, string(b.env.WaitTerminal(t, rerun, 30*time.Second).Result), "again")
	r = b.do("POST", fmt.Sprintf("/api/v1/executions/%d/re_run", echo), nil)
	require.Equal(t, 201, r.code, "no body: the same parameters")
	require.Equal(t, "first", r.body["parameters"].(map[string]any)["message"])
	r = b.do("POST", fmt.Sprintf("/api/v1/executions/%d/re_run", echo), []byte(`{"parameters": {"message": 7, "colour": 1}}`))
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, []string{"parameters.colour", "parameters.message"}, fieldsOf(r))
	r = b.do("POST", fmt.Sprintf("/api/v1/executions/%d/re_run", echo), []byte(`{"params": {}}`))
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, []string{"params"}, fieldsOf(r))
	require.Equal(t, 404, b.do("POST", "/api/v1/executions/424242/re_run", nil).code)
}

// The output stream replays what is stored, follows what the action prints while it runs, with
// the seq as each event's id, and ends with EOF once the execution is terminal; a client that
// reconnects with Last-Event-ID gets only what follows.
func TestOutputStream(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.registerPack(livePack)
	gate := t.TempDir()
	r := b.do("POST", "/api/v1/executions", []byte(`{"action": "live.lines", "parameters": {"dir": "`+gate+`"}}`))
	require.Equal(t, 201, r.code, r.raw)
	id := int64(r.body["id"].(float64))
	s := b.stream(fmt.Sprintf("/stream/v1/executions/%d/output", id))
	first, ok := s.next()
	require.True(t, ok)
	require.Equal(t, "execution.output", first.name)
	require.Contains(t, first.data, "line 1")
	x, err := b.env.DB.AutoCommit().Execution(context.Background(), id)
	require.NoError(t, err)
	require.False(t, x.Status.Terminal(), "the first line arrived while the action ran")
	require.NoError(t, os.WriteFile(filepath.Join(gate, "go"), nil, 0o644))
	evs := append([]sseEvent{first}, s.untilEOF()...)
	var all strings.Builder
	for i, ev := range evs[:len(evs)-1] {
		require.Equal(t, fmt.Sprint(i+1), ev.id)
		all.WriteString(ev.data)
	}
	require.Regexp(t, `line 1\\n.*line 2\\n.*line 3\\n.*done`, all.String())
	require.Contains(t, all.String(), `"stream":"stderr","data":"oops\n"`)
	require.JSONEq(t, fmt.Sprintf(`{"id": %d, "status": "completed"}`, id), evs[len(evs)-1].data)

	again := b.stream(fmt.Sprintf("/stream/v1/executions/%d/output", id), "Last-Event-ID", "1").untilEOF()
	require.Len(t, again, len(evs)-1)
	require.Equal(t, "2", again[0].id)
	require.Equal(t, 404, b.do("GET", "/stream/v1/executions/424242/output", nil).code)
	require.Equal(t, 401, b.do("GET", fmt.Sprintf("/stream/v1/executions/%d/output", id), nil, "Authorization", "").code)
}

// The event stream sends execution.created, execution.updated and execution.output as they
// happen, filtered by events and action; bad filters are 400.
func TestEventStream(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.registerPack(livePack)
	s := b.stream("/stream/v1/stream?action=live.lines")
	time.Sleep(200 * time.Millisecond) // let the subscription register before the first event
	b.run("core.noop")
	id := b.run("live.lines")
	var names []string
	var out strings.Builder
	for !strings.Contains(strings.Join(names, ","), `execution.updated:"completed"`) {
		ev, ok := s.next()
		require.True(t, ok)
		require.Contains(t, ev.data, fmt.Sprintf(`"id":%d`, id), "only live.lines: %s", ev.data)
		name := ev.name
		if ev.name == "execution.updated" {
			name += ":" + strings.Split(strings.SplitAfter(ev.data, `"status":`)[1], "}")[0]
		}
		if ev.name == "execution.output" {
			out.WriteString(ev.data)
		}
		names = append(names, name)
	}
	require.Equal(t, "execution.created", names[0])
	require.Contains(t, names, "execution.output")
	require.Regexp(t, `line 1\\n.*line 2\\n.*line 3`, out.String())

	only := b.stream("/stream/v1/stream?events=execution.created")
	time.Sleep(200 * time.Millisecond)
	id = b.run("core.noop")
	ev, ok := only.next()
	require.True(t, ok)
	require.Equal(t, "execution.created", ev.name)
	require.Contains(t, ev.data, fmt.Sprintf(`"id":%d`, id))
	r := b.do("GET", "/stream/v1/stream?events=execution.deleted&execution=x", nil)
	require.Equal(t, 400, r.code)
	require.Equal(t, []string{"events", "execution"}, fieldsOf(r))
}

// On shutdown every open stream gets a final event and ends, and Shutdown does not wait for
// the execution they follow.
func TestStreamsEndOnShutdown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.registerPack(livePack)
	id := b.run("live.graceful")
	out := b.stream(fmt.Sprintf("/stream/v1/executions/%d/output", id))
	ev, ok := out.next()
	require.True(t, ok)
	require.Contains(t, ev.data, "started")
	all := b.stream("/stream/v1/stream")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, b.srv.Shutdown(ctx))
	for _, s := range []*sseStream{out, all} {
		var last sseEvent
		for {
			ev, ok := s.next()
			if !ok {
				break
			}
			last = ev
		}
		require.Equal(t, "shutdown", last.name)
	}
}

// A stream outlives the server's read and write timeouts, which bound every other request.
func TestStreamOutlivesTimeouts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.registerPack(livePack)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0", MaxBody: 1 << 20, ReadHeaderTimeout: time.Second,
		ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second},
		httpapi.Deps{DB: b.env.DB, Pipeline: b.env.P, Hub: b.env.Hub, RiverStarted: func() bool { return true }, Log: log})
	require.NoError(t, s.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Serve(ctx)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	id := b.run("live.graceful")
	real := &bundle{t: t, env: b.env, url: "http://" + s.Addr(), key: b.key}
	out := real.stream(fmt.Sprintf("/stream/v1/executions/%d/output", id))
	ev, ok := out.next()
	require.True(t, ok)
	require.Contains(t, ev.data, "started")
	time.Sleep(3 * time.Second) // past both timeouts
	require.Equal(t, 202, b.do("POST", fmt.Sprintf("/api/v1/executions/%d/cancel", id), nil).code)
	evs := out.untilEOF()
	require.Contains(t, evs[0].data, "got TERM")
	require.Contains(t, evs[len(evs)-1].data, `"status":"cancelled"`)
}
