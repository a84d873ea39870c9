package main_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// sseClient reads one Server-Sent Events stream of the real binary, as a browser's EventSource
// would: line by line, as the events arrive.
type sseClient struct {
	t   *testing.T
	res *http.Response
	r   *bufio.Reader
}

type sseEvent struct{ id, name, data string }

func (c apiClient) stream(path string) *sseClient {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	require.Equal(c.t, 200, res.StatusCode)
	require.Equal(c.t, "text/event-stream", res.Header.Get("Content-Type"))
	c.t.Cleanup(func() { res.Body.Close() })
	return &sseClient{t: c.t, res: res, r: bufio.NewReader(res.Body)}
}

// next returns the next event, skipping keep-alive comments; ok is false once the stream ended.
func (s *sseClient) next() (ev sseEvent, ok bool) {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, false
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && ev.name != "":
			return ev, true
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

// The real binary's streams, read by a real HTTP client: an action's output arrives line by
// line while it runs and in order, then event EOF; a cancel over the API stops an action that
// traps SIGTERM, its stream ends and the execution is cancelled by the key's name; on SIGTERM
// the server closes an open stream with a final event.
func TestE2EStreams(t *testing.T) {
	in := newInstance(t)
	addr := freeAddr(t)
	secretsKey := make([]byte, 32)
	_, _ = rand.Read(secretsKey)
	in.env = append(in.env, "ATTUNE_HTTP_LISTEN="+addr, "ATTUNE_RUNTIMES_KILL_GRACE=2s",
		"ATTUNE_SECRETS_KEY="+base64.StdEncoding.EncodeToString(secretsKey))
	stop, logs := in.start()
	base := "http://" + addr
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, 90*time.Second, 100*time.Millisecond, "the api never became ready; logs:\n%s", logs)
	raw, err := os.ReadFile(filepath.Join(in.dir, "data", "api-key"))
	require.NoError(t, err)
	api := apiClient{t: t, base: base, key: strings.TrimSpace(string(raw))}

	pack := filepath.Join(in.dir, "live")
	writeFiles(t, pack, map[string]string{
		"pack.yaml": "ref: live\nversion: 1.0.0\n",
		"actions/lines.yaml": "ref: lines\nentry_point: lines.sh\nparameter_format: dotenv\n" +
			"parameters:\n  dir: {type: string, required: true}\n",
		// The last line waits for the test to have read the first while the action ran.
		"actions/lines.sh": "eval \"$(cat)\"\nfor i in 1 2 3 4; do echo line $i; sleep 0.3; done\n" +
			"while [ ! -e \"$dir/go\" ]; do sleep 0.02; done\necho line 5\n",
		"actions/graceful.yaml": "ref: graceful\nentry_point: graceful.sh\n",
		"actions/graceful.sh":   "trap 'echo got TERM; exit 0' TERM\necho started\nwhile :; do sleep 0.05; done\n",
	})
	_, stderr, exit := in.attune("pack", "register", pack)
	require.Equal(t, 0, exit, stderr)

	// Output line by line, in order, the first while the action still runs, then EOF.
	gate := t.TempDir()
	require.NoError(t, os.Chmod(gate, 0o777))
	code, body := api.call("POST", "/api/v1/executions", `{"action": "live.lines", "parameters": {"dir": "`+gate+`"}}`)
	require.Equal(t, 201, code, body)
	id := jsonNumber(int64(body["id"].(float64)))
	s := api.stream("/stream/v1/executions/" + id + "/output")
	var got strings.Builder
	lastSeq := 0
	for {
		ev, ok := s.next()
		require.True(t, ok, "the stream ended before EOF; got %q", got.String())
		if ev.name == "EOF" {
			require.JSONEq(t, `{"id": `+id+`, "status": "completed"}`, ev.data)
			break
		}
		require.Equal(t, "execution.output", ev.name)
		if lastSeq == 0 {
			_, x := api.call("GET", "/api/v1/executions/"+id, "")
			require.Equal(t, "running", x["status"], "the first line arrives while the action runs")
			require.NoError(t, os.WriteFile(filepath.Join(gate, "go"), nil, 0o644))
		}
		lastSeq++
		require.Equal(t, jsonNumber(int64(lastSeq)), ev.id, "ids are the seqs, in order")
		var chunk struct{ Data string }
		require.NoError(t, json.Unmarshal([]byte(ev.data), &chunk))
		got.WriteString(chunk.Data)
	}
	require.Equal(t, "line 1\nline 2\nline 3\nline 4\nline 5\n", got.String())
	_, more := s.next()
	require.False(t, more, "the stream ends after EOF")

	// Cancel over the API while the action runs: it gets SIGTERM, the stream ends.
	code, body = api.call("POST", "/api/v1/executions", `{"action": "live.graceful"}`)
	require.Equal(t, 201, code, body)
	id = jsonNumber(int64(body["id"].(float64)))
	s = api.stream("/stream/v1/executions/" + id + "/output")
	ev, ok := s.next()
	require.True(t, ok)
	require.Contains(t, ev.data, `"data":"started\n"`)
	code, body = api.call("POST", "/api/v1/executions/"+id+"/cancel", "")
	require.Equal(t, 202, code, body)
	require.Equal(t, "canceling", body["status"])
	var rest []sseEvent
	for {
		ev, ok := s.next()
		require.True(t, ok, "the stream ended before EOF: %v", rest)
		rest = append(rest, ev)
		if ev.name == "EOF" {
			break
		}
	}
	require.Contains(t, rest[0].data, `"data":"got TERM\n"`)
	require.JSONEq(t, `{"id": `+id+`, "status": "cancelled"}`, rest[len(rest)-1].data)
	_, x := api.call("GET", "/api/v1/executions/"+id, "")
	require.Equal(t, "cancelled", x["status"])
	require.Contains(t, x["error"], "cancelled by api:local")
	code, body = api.call("DELETE", "/api/v1/executions/"+id, "")
	require.Equal(t, 409, code)
	require.Contains(t, body["detail"], "already completed")

	// SIGTERM: an open stream gets a final event and ends, and attune stops.
	feed := api.stream("/stream/v1/stream")
	conn, err := pgx.Connect(context.Background(), in.dbURL())
	require.NoError(t, err)
	var pid int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT pid FROM attune.worker LIMIT 1`).Scan(&pid))
	conn.Close(context.Background())
	require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
	var last sseEvent
	for {
		ev, ok := feed.next()
		if !ok {
			break
		}
		last = ev
	}
	require.Equal(t, "shutdown", last.name, "logs:\n%s", logs)
	require.Equal(t, 0, stop())
}
