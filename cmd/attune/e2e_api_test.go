package main_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// freeAddr returns a loopback address nothing listens on now. Its port is below Linux's
// ephemeral range (32768 and up), where the kernel picks ports for ":0": the embedded
// PostgreSQL the binary starts takes its port that way, and must not land on this one.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+mrand.IntN(12000))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		require.NoError(t, ln.Close())
		return addr
	}
	t.Fatal("no free port between 20000 and 32000 on 127.0.0.1")
	return ""
}

// apiClient talks to one replica's HTTP API with a key.
type apiClient struct {
	t    *testing.T
	base string
	key  string
}

// call sends a request and returns the status code and the decoded body.
func (c apiClient) call(method, path, body string, header ...string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(c.t, err)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// The HTTP API of the real binary on the embedded default: health, the local key written 0600,
// 401 without a key, an action run over HTTP, a GitHub-signed webhook firing its rule and
// deduped on redelivery, keys created and revoked from the CLI (refused at once), a slow
// client cut off by the header timeout, a clean stop, and no key in any log line.
func TestE2EHTTPAPI(t *testing.T) {
	in := newInstance(t)
	addr := freeAddr(t)
	secretsKey := make([]byte, 32)
	_, _ = rand.Read(secretsKey)
	in.env = append(in.env, "ATTUNE_HTTP_LISTEN="+addr, "ATTUNE_HTTP_READ_HEADER_TIMEOUT=1s",
		"ATTUNE_SECRETS_KEY="+base64.StdEncoding.EncodeToString(secretsKey))
	stop, logs := in.start()
	anon := apiClient{t: t, base: "http://" + addr}
	require.Eventually(t, func() bool {
		res, err := http.Get(anon.base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, 90*time.Second, 100*time.Millisecond, "the api never became ready; logs:\n%s", logs)
	code, health := anon.call("GET", "/healthz", "")
	require.Equal(t, 200, code)
	require.Equal(t, "ok", health["status"])

	keyFile := filepath.Join(in.dir, "data", "api-key")
	fi, err := os.Stat(keyFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	raw, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	local := strings.TrimSpace(string(raw))
	api := apiClient{t: t, base: anon.base, key: local}

	code, body := anon.call("GET", "/api/v1/executions", "")
	require.Equal(t, 401, code)
	require.Contains(t, body["detail"], "needs an API key")

	code, body = api.call("POST", "/api/v1/executions", `{"action": "core.echo", "parameters": {"message": "over http"}}`)
	require.Equal(t, 201, code, body)
	id := int64(body["id"].(float64))
	require.Eventually(t, func() bool {
		_, x := api.call("GET", "/api/v1/executions/"+jsonNumber(id), "")
		return x["status"] == "completed"
	}, 60*time.Second, 100*time.Millisecond)

	// A webhook with GitHub's published test vector.
	pack := filepath.Join(in.dir, "hooks")
	writeFiles(t, pack, map[string]string{
		"pack.yaml":         "ref: hooks\nversion: 1.0.0\n",
		"rules/deploy.yaml": "ref: deploy\ntrigger_ref: core.webhook\ntrigger_params: {url: deploy}\naction_ref: core.echo\naction_params: {message: \"{{ event.payload.body }}\"}\n",
	})
	_, stderr, exit := in.attune("pack", "register", pack)
	require.Equal(t, 0, exit, stderr)
	secretFile := filepath.Join(in.dir, "gh-secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("It's a Secret to Everybody\n"), 0o600))
	_, stderr, exit = in.attune("webhook", "set", "deploy", "--verify", "github", "--secret-file", secretFile)
	require.Equal(t, 0, exit, stderr)
	out, _, _ := in.attune("webhook", "list")
	require.Regexp(t, `deploy\s+github`, out)

	sig := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	code, body = anon.call("POST", "/api/v1/webhooks/deploy", "Hello, World!",
		"X-Hub-Signature-256", sig, "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958", "Content-Type", "text/plain")
	require.Equal(t, 202, code, body)
	eventID := body["event_id"]
	code, body = anon.call("POST", "/api/v1/webhooks/deploy", "Hello, World!",
		"X-Hub-Signature-256", sig, "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958", "Content-Type", "text/plain")
	require.Equal(t, 200, code, "a redelivery")
	require.Equal(t, eventID, body["event_id"])
	code, _ = anon.call("POST", "/api/v1/webhooks/deploy", "Hello, World?", "X-Hub-Signature-256", sig)
	require.Equal(t, 401, code, "a signature for another body")
	require.Eventually(t, func() bool {
		_, ev := api.call("GET", "/api/v1/events/"+jsonNumber(int64(eventID.(float64))), "")
		rules, _ := ev["rules"].([]any)
		if len(rules) != 1 {
			return false
		}
		xs, _ := rules[0].(map[string]any)["executions"].([]any)
		return len(xs) == 1 && xs[0].(map[string]any)["status"] == "completed"
	}, 60*time.Second, 100*time.Millisecond, "the webhook's rule ran")

	// Keys from the CLI: printed once, usable, listed, revoked at once.
	ciKey, stderr, exit := in.attune("apikey", "create", "ci")
	require.Equal(t, 0, exit, stderr)
	ci := apiClient{t: t, base: anon.base, key: strings.TrimSpace(ciKey)}
	code, _ = ci.call("GET", "/api/v1/packs", "")
	require.Equal(t, 200, code)
	out, _, _ = in.attune("apikey", "list")
	require.Contains(t, out, "ci")
	require.Contains(t, out, "local")
	require.NotContains(t, out, ci.key)
	_, stderr, exit = in.attune("apikey", "revoke", "ci")
	require.Equal(t, 0, exit, stderr)
	code, body = ci.call("GET", "/api/v1/packs", "")
	require.Equal(t, 401, code, "revoked at once")
	require.Contains(t, body["detail"], "revoked")

	// A client that sends one byte a second is cut off by http.read_header_timeout (1s here).
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	closed := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(conn)
		closed <- err
	}()
	req := "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	cutOff := false
	for i := 0; i < len(req) && !cutOff; i++ {
		if _, err := conn.Write([]byte{req[i]}); err != nil {
			cutOff = true
			break
		}
		select {
		case <-closed:
			cutOff = true
		case <-time.After(time.Second):
		}
	}
	require.True(t, cutOff, "the server closed the slow connection before the request was complete")

	require.Equal(t, 0, stop(), "a clean stop")
	for _, key := range []string{local, ci.key} {
		require.NotContains(t, logs.String(), key, "a key in the logs")
	}
	require.Contains(t, logs.String(), "http api listening")
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Several replicas on one host: with http.listen at its default and the address taken, a replica
// runs without the api role; with http.listen set explicitly, a taken address stops attune start
// with an error naming it.
func TestE2EHTTPAddressTaken(t *testing.T) {
	const def = "127.0.0.1:9101"
	// Hold the address for the whole test. Other tests' replicas take it when they start with the
	// default and free it when they stop, so wait for it rather than count on one of them holding
	// it throughout; a process that keeps it for longer holds it for this test too.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ln, err := net.Listen("tcp", def)
		if err == nil {
			defer ln.Close()
			break
		}
		require.True(t, errors.Is(err, syscall.EADDRINUSE), err)
		if time.Now().After(deadline) {
			break
		}
	}
	in := newInstance(t)
	stop, logs := in.start()
	in.dbURL() // up and beating
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "running without the api role")
	}, 30*time.Second, 100*time.Millisecond, "logs:\n%s", logs)
	require.Contains(t, logs.String(), `"roles":"timers,rules,workers"`)

	explicit := append(append([]string{}, in.env...), "ATTUNE_HTTP_LISTEN="+def)
	_, stderr, exit := attuneIn(t, in.dir, explicit, "start")
	require.NotEqual(t, 0, exit)
	require.Contains(t, stderr, "cannot listen on "+def)
	require.Equal(t, 0, stop())
}

// An api-only replica (--roles api, as the README suggests behind a load balancer) starts
// without working any queue, reports ready, accepts an execution, and a worker replica started
// later runs it.
func TestE2EAPIOnlyReplica(t *testing.T) {
	in := newInstance(t)
	addr := freeAddr(t)
	in.env = append(in.env, "ATTUNE_HTTP_LISTEN="+addr, "ATTUNE_ROLES=api")
	stop, logs := in.start()
	anon := apiClient{t: t, base: "http://" + addr}
	require.Eventually(t, func() bool {
		res, err := http.Get(anon.base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, 90*time.Second, 100*time.Millisecond, "the api-only replica never became ready; logs:\n%s", logs)
	require.Contains(t, logs.String(), `"roles":"api"`)

	raw, err := os.ReadFile(filepath.Join(in.dir, "data", "api-key"))
	require.NoError(t, err)
	api := apiClient{t: t, base: anon.base, key: strings.TrimSpace(string(raw))}
	code, body := api.call("POST", "/api/v1/executions", `{"action": "core.echo", "parameters": {"message": "from the api replica"}}`)
	require.Equal(t, 201, code, body)
	id := jsonNumber(int64(body["id"].(float64)))
	_, x := api.call("GET", "/api/v1/executions/"+id, "")
	require.Equal(t, "scheduled", x["status"], "no replica works the runtime queues yet")

	workers := append(append([]string{}, in.env...), "ATTUNE_ROLES=workers", "ATTUNE_HTTP_LISTEN="+freeAddr(t))
	w := &instance{t: t, dir: in.dir, env: workers}
	stopWorker, workerLogs := w.start()
	require.Eventually(t, func() bool {
		_, x := api.call("GET", "/api/v1/executions/"+id, "")
		return x["status"] == "completed"
	}, 60*time.Second, 100*time.Millisecond, "worker logs:\n%s", workerLogs)
	require.Equal(t, 0, stopWorker())
	require.Equal(t, 0, stop(), "logs:\n%s", logs)
}
