package httpapi_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/httpapi"
	"github.com/attune-run/attune/internal/attunetest"
)

// The River UI is served at /riverui/ behind the API keys (a browser sends HTTP Basic), and a
// mutating request from another origin is refused.
func TestRiverUI(t *testing.T) {
	t.Parallel()
	env := attunetest.New(t, attunetest.Options{NoStart: true})
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0", MaxBody: 1 << 20}, httpapi.Deps{
		DB: env.DB, Pipeline: env.P, Registry: env.Registry, RiverStarted: func() bool { return true }, Log: log,
	})
	require.NoError(t, s.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s.Serve(ctx)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	key, hash := httpapi.NewKey()
	_, err := env.DB.AutoCommit().APIKeyInsert(ctx, "ui", hash)
	require.NoError(t, err)
	base := "http://" + s.Addr()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("me:"+key))

	get := func(method, path, auth, origin string) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(`{"job_ids": ["1"]}`))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, _ := get("GET", "/riverui/", "", "")
	require.Equal(t, 401, code)
	code, body := get("GET", "/riverui/", basic, "")
	require.Equal(t, 200, code)
	require.Contains(t, body, "<html")
	code, body = get("GET", "/riverui/api/jobs?state=available", basic, "")
	require.Equal(t, 200, code, body)
	code, _ = get("POST", "/riverui/api/jobs/cancel", basic, "https://evil.example")
	require.Equal(t, 403, code, "a cross-origin mutation")
	code, body = get("POST", "/riverui/api/jobs/cancel", basic, base)
	require.NotEqual(t, 403, code, body)
}
