package runtimes

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// httpServer is a loopback test server, and how many requests reached it.
type httpServer struct {
	*httptest.Server
	hits atomic.Int64
}

// echoed is what the /echo route answers: the request as the server saw it.
type echoed struct {
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Query  map[string][]string `json:"query"`
	Header map[string][]string `json:"header"`
	Body   string              `json:"body"`
}

// newHTTPServer starts a loopback server with the routes the tests use.
func newHTTPServer(t *testing.T) *httpServer {
	t.Helper()
	s := &httpServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		_ = json.NewEncoder(w).Encode(echoed{r.Method, r.URL.Path, r.URL.Query(), r.Header, string(body)})
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "status "+r.PathValue("code"))
	})
	mux.HandleFunc("/redirect/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		to := "/echo"
		if n > 1 {
			to = "/redirect/" + strconv.Itoa(n-1)
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	})
	mux.HandleFunc("/binary", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte{0xff, 0xfe, 0x00, 0x01})
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `"`+strings.Repeat("x", 4096)+`"`)
	})
	mux.HandleFunc("/badjson", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		_, _ = io.WriteString(w, "not json")
	})
	mux.HandleFunc("/vnd", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		_, _ = io.WriteString(w, `{"data":[]}`)
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// httpRequest returns a request running an http action with params.
func httpRequest(params map[string]any) Request {
	return Request{
		ExecutionID: 7,
		Action:      attune.Action{Ref: "core.http_request", PackRef: "core", Runtime: attune.RuntimeHTTP},
		Parameters:  params,
		Timeout:     30 * time.Second,
	}
}

// runHTTP runs params against the http runtime of a fresh Set.
func runHTTP(t *testing.T, params map[string]any, opts ...func(*Config)) Result {
	t.Helper()
	res, err := setup(t, opts...).set.Run(context.Background(), httpRequest(params))
	require.NoError(t, err, "an http action never fails the worker")
	return res
}

// echoOf decodes the /echo answer in a result.
func echoOf(t *testing.T, res Result) echoed {
	t.Helper()
	var e echoed
	body := res.Data.(map[string]any)["body"].(string)
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e
}

func TestHTTPRequests(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(t)
	for _, tt := range []struct {
		name   string
		params map[string]any
		check  func(t *testing.T, res Result)
	}{
		{"GETWithQueryAndHeaders", map[string]any{
			"url":     srv.URL + "/echo?keep=1",
			"query":   map[string]any{"q": "a b&c", "n": 2.0, "multi": []any{"x", "y"}},
			"headers": map[string]any{"X-Trace": "t1", "X-Num": 5.0, "Accept": "application/json"},
		}, func(t *testing.T, res Result) {
			require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
			require.Equal(t, 0, res.ExitCode)
			d := res.Data.(map[string]any)
			require.Equal(t, 200, d["status_code"])
			require.Equal(t, "a, b", d["headers"].(map[string]any)["X-Multi"])
			require.Equal(t, "application/json; charset=utf-8", d["headers"].(map[string]any)["Content-Type"])
			require.Equal(t, srv.URL+"/echo?keep=1&multi=x&multi=y&n=2&q=a+b%26c", d["url"])
			require.IsType(t, int64(0), d["elapsed_ms"])
			e := echoOf(t, res)
			require.Equal(t, "GET", e.Method)
			require.Equal(t, map[string][]string{"keep": {"1"}, "q": {"a b&c"}, "n": {"2"}, "multi": {"x", "y"}}, e.Query)
			require.Equal(t, []string{"t1"}, e.Header["X-Trace"])
			require.Equal(t, []string{"5"}, e.Header["X-Num"])
			parsed := d["json"].(map[string]any)
			require.Equal(t, "/echo", parsed["path"], "a JSON response is parsed into json")
		}},
		{"StackStormNames", map[string]any{ // core.http and Exchange http-request actions
			"url": srv.URL + "/echo", "method": "POST", "body": "hi",
			"params":   map[string]any{"q": "1"},
			"cookies":  map[string]any{"b": "2", "a": "x y"},
			"username": "u", "password": "p", "allow_redirects": true, "verify_ssl_cert": true,
		}, func(t *testing.T, res Result) {
			require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
			e := echoOf(t, res)
			require.Equal(t, map[string][]string{"q": {"1"}}, e.Query)
			require.Equal(t, []string{"a=x y; b=2"}, e.Header["Cookie"])
			require.Equal(t, []string{"Basic dTpw"}, e.Header["Authorization"])
			require.Equal(t, "hi", e.Body)
		}},
		{"POSTJSONSetsContentType", map[string]any{
			"url": srv.URL + "/echo", "method": "post", "json": map[string]any{"a": []any{1.0, "<b>"}},
		}, func(t *testing.T, res Result) {
			require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
			e := echoOf(t, res)
			require.Equal(t, "POST", e.Method)
			require.Equal(t, `{"a":[1,"<b>"]}`, e.Body)
			require.Equal(t, []string{"application/json"}, e.Header["Content-Type"])
		}},
		{"JSONKeepsGivenContentType", map[string]any{
			"url": srv.URL + "/echo", "method": "PUT", "json": "x",
			"headers": map[string]any{"Content-Type": "application/merge-patch+json"},
		}, func(t *testing.T, res Result) {
			e := echoOf(t, res)
			require.Equal(t, []string{"application/merge-patch+json"}, e.Header["Content-Type"])
			require.Equal(t, `"x"`, e.Body)
		}},
		{"RawBody", map[string]any{"url": srv.URL + "/echo", "method": "PATCH", "body": "a=1&b=2",
			"headers": map[string]any{"Content-Type": "application/x-www-form-urlencoded"}},
			func(t *testing.T, res Result) {
				e := echoOf(t, res)
				require.Equal(t, "PATCH", e.Method)
				require.Equal(t, "a=1&b=2", e.Body)
			}},
		{"BasicAuth", map[string]any{"url": srv.URL + "/echo", "auth_type": "basic", "auth_username": "ada", "auth_password": "pw:1"},
			func(t *testing.T, res Result) {
				require.Equal(t, []string{"Basic YWRhOnB3OjE="}, echoOf(t, res).Header["Authorization"])
			}},
		{"BearerAuth", map[string]any{"url": srv.URL + "/echo", "auth_type": "bearer", "auth_token": "tok"},
			func(t *testing.T, res Result) {
				require.Equal(t, []string{"Bearer tok"}, echoOf(t, res).Header["Authorization"])
			}},
		{"ErrorStatusCompletesByDefault", map[string]any{"url": srv.URL + "/status/503"},
			func(t *testing.T, res Result) {
				require.Equal(t, attune.StatusCompleted, res.Status, "an HTTP error fails only when fail_on_status says so")
				d := res.Data.(map[string]any)
				require.Equal(t, 503, d["status_code"])
				require.Equal(t, "status 503", d["body"])
				require.Nil(t, d["json"], "a text response has no json")
			}},
		{"FailOnStatusMatches", map[string]any{"url": srv.URL + "/status/404", "fail_on_status": []any{500.0, ">=400"}},
			func(t *testing.T, res Result) {
				require.Equal(t, attune.StatusFailed, res.Status)
				require.Equal(t, 1, res.ExitCode)
				require.Equal(t, `GET `+srv.URL+`/status/404: HTTP 404 Not Found, which fail_on_status ">=400" fails`, res.Error)
				require.Equal(t, 404, res.Data.(map[string]any)["status_code"], "the response is kept")
			}},
		{"FailOnStatusDoesNotMatch", map[string]any{"url": srv.URL + "/status/404", "fail_on_status": []any{"5xx"}},
			func(t *testing.T, res Result) {
				require.Equal(t, attune.StatusCompleted, res.Status)
			}},
		{"FollowsRedirects", map[string]any{"url": srv.URL + "/redirect/3"},
			func(t *testing.T, res Result) {
				require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
				require.Equal(t, srv.URL+"/echo", res.Data.(map[string]any)["url"])
			}},
		{"NoFollowRedirects", map[string]any{"url": srv.URL + "/redirect/1", "follow_redirects": false},
			func(t *testing.T, res Result) {
				d := res.Data.(map[string]any)
				require.Equal(t, 302, d["status_code"])
				require.Equal(t, "/echo", d["headers"].(map[string]any)["Location"])
			}},
		{"TooManyRedirects", map[string]any{"url": srv.URL + "/redirect/3", "max_redirects": 2.0},
			func(t *testing.T, res Result) {
				require.Equal(t, attune.StatusFailed, res.Status)
				require.Contains(t, res.Error, "stopped after 2 redirects (max_redirects)")
			}},
		{"HEAD", map[string]any{"url": srv.URL + "/echo", "method": "HEAD"},
			func(t *testing.T, res Result) {
				require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
				require.Equal(t, "", res.Data.(map[string]any)["body"])
			}},
		{"BinaryBodyIsBase64", map[string]any{"url": srv.URL + "/binary"},
			func(t *testing.T, res Result) {
				d := res.Data.(map[string]any)
				require.Equal(t, "//4AAQ==", d["body"])
				require.Equal(t, "base64", d["body_encoding"])
			}},
		{"InvalidJSONIsNull", map[string]any{"url": srv.URL + "/badjson"},
			func(t *testing.T, res Result) {
				d := res.Data.(map[string]any)
				require.Equal(t, "not json", d["body"])
				require.Nil(t, d["json"])
			}},
		{"PlusJSONIsParsed", map[string]any{"url": srv.URL + "/vnd"},
			func(t *testing.T, res Result) {
				require.Equal(t, map[string]any{"data": []any{}}, res.Data.(map[string]any)["json"])
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, runHTTP(t, tt.params))
		})
	}
}

// A body past the output cap is cut and flagged, and not parsed.
func TestHTTPBodyCap(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(t)

	res := runHTTP(t, map[string]any{"url": srv.URL + "/big"}, func(c *Config) { c.OutputCap = 1024 })

	require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
	d := res.Data.(map[string]any)
	require.Len(t, d["body"], 1024)
	require.Equal(t, true, d["body_truncated"])
	require.Nil(t, d["json"])
}

// The stored result has the response under data.
func TestHTTPResultJSON(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(t)

	res := runHTTP(t, map[string]any{"url": srv.URL + "/status/201"})

	var doc map[string]any
	require.NoError(t, json.Unmarshal(res.JSON(), &doc))
	require.Equal(t, true, doc["succeeded"])
	data := doc["data"].(map[string]any)
	for _, k := range []string{"status_code", "headers", "body", "json", "elapsed_ms", "url"} {
		require.Contains(t, data, k)
	}
	require.Equal(t, 201.0, data["status_code"])
}

// Parameters the runtime cannot use fail the run before any request is made, naming the
// parameter; a secret's value is never quoted.
func TestHTTPInvalidParameters(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(t)
	u := srv.URL + "/echo"
	for _, tt := range []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"NoURL", map[string]any{}, "url: required, an absolute http:// or https:// URL; got nothing"},
		{"RelativeURL", map[string]any{"url": "/echo"}, `url: "/echo" must be an absolute http:// or https:// URL`},
		{"FileURL", map[string]any{"url": "file:///etc/passwd"}, `url: "file:///etc/passwd" must be an absolute http:// or https:// URL`},
		{"BadURL", map[string]any{"url": "http://[::1"}, `url: "http://[::1" is not a URL: missing ']' in host`},
		{"URLPasswordRedacted", map[string]any{"url": "ftp://ada:hunter2@host/x"}, `url: "ftp://ada:xxxxx@host/x" must be an absolute http:// or https:// URL`},
		{"UnknownMethod", map[string]any{"url": u, "method": "TRACE"}, `method: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "TRACE"`},
		{"UnknownParameter", map[string]any{"url": u, "verify_ssl": false}, "verify_ssl: unknown parameter for the http runtime (known: url, method, headers, query, body, json, timeout, auth_type, auth_username, auth_password, auth_token, fail_on_status, follow_redirects, max_redirects, params, allow_redirects, username, password, cookies, verify_ssl_cert)"},
		{"VerifyOff", map[string]any{"url": u, "verify_ssl_cert": false}, "verify_ssl_cert: attune always verifies TLS certificates; install the server's CA certificate on the worker instead of turning verification off"},
		{"BothSpellings", map[string]any{"url": u, "params": map[string]any{}, "query": map[string]any{}}, "params and query: they are the same parameter (StackStorm's name and attune's); give one"},
		{"HeadersNotObject", map[string]any{"url": u, "headers": "X-A: 1"}, `headers: must be an object of name: value, got "X-A: 1"`},
		{"HeaderValueObject", map[string]any{"url": u, "headers": map[string]any{"X-A": map[string]any{}}}, "headers.X-A: must be a string, number or boolean (or a list of them), got {}"},
		{"QueryValueNull", map[string]any{"url": u, "query": map[string]any{"a": nil}}, "query.a: must be a string, number or boolean (or a list of them), got nothing"},
		{"BodyAndJSON", map[string]any{"url": u, "body": "x", "json": 1.0}, "body and json: give one of them, not both"},
		{"BodyNotString", map[string]any{"url": u, "body": map[string]any{"a": 1.0}}, `body: must be a string, got {"a":1}; send structured data with the json parameter`},
		{"Timeout0", map[string]any{"url": u, "timeout": 0.0}, "timeout: must be a number of seconds above 0 and at most 86400, got 0"},
		{"TimeoutString", map[string]any{"url": u, "timeout": "30"}, `timeout: must be a number of seconds above 0 and at most 86400, got "30"`},
		{"FollowNotBool", map[string]any{"url": u, "follow_redirects": "yes"}, `follow_redirects: must be true or false, got "yes"`},
		{"MaxRedirectsFraction", map[string]any{"url": u, "max_redirects": 1.5}, "max_redirects: must be a whole number from 0 to 100, got 1.5"},
		{"AuthTypeUnknown", map[string]any{"url": u, "auth_type": "digest"}, `auth_type: must be none, basic or bearer, got "digest"`},
		{"BasicWithoutUser", map[string]any{"url": u, "auth_type": "basic", "auth_password": "s3cr3t"}, "auth_username: required when auth_type is basic"},
		{"BearerWithoutToken", map[string]any{"url": u, "auth_type": "bearer"}, "auth_token: required when auth_type is bearer"},
		{"BearerWithPassword", map[string]any{"url": u, "auth_type": "bearer", "auth_token": "s3cr3t", "auth_password": "s3cr3t"}, "auth_username, auth_password: not used with auth_type bearer; remove them or set auth_type: basic"},
		{"BasicWithToken", map[string]any{"url": u, "auth_type": "basic", "auth_username": "a", "auth_token": "s3cr3t"}, "auth_token: not used with auth_type basic; remove it or set auth_type: bearer"},
		{"CredentialsWithoutAuthType", map[string]any{"url": u, "auth_token": "s3cr3t"}, "auth_type: credentials are given but auth_type is none; set auth_type to basic (auth_username, auth_password) or bearer (auth_token)"},
		{"SecretOfWrongTypeNotShown", map[string]any{"url": u, "auth_type": "bearer", "auth_token": 12345.0}, "auth_token: must be a string, got a number"},
		{"AuthorizationTwice", map[string]any{"url": u, "auth_type": "bearer", "auth_token": "s3cr3t", "headers": map[string]any{"Authorization": "Bearer other"}}, "headers.Authorization and auth_type bearer: give one of them, not both"},
		{"FailOnStatusBad", map[string]any{"url": u, "fail_on_status": []any{404.0, "4oo"}}, `fail_on_status[1]: "4oo" is not a status code (404), a comparison (>=400), a range (500-599) or a class (5xx)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runHTTP(t, tt.params)
			require.Equal(t, attune.StatusFailed, res.Status)
			require.Equal(t, -1, res.ExitCode)
			require.Equal(t, tt.want, res.Error)
			require.NotContains(t, res.Error, "s3cr3t")
			require.NotContains(t, res.Error, "12345")
			require.NotContains(t, res.Error, "hunter2")
		})
	}
	require.Zero(t, srv.hits.Load(), "no request was made")
}

func TestReadFailOnStatus(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		entry any
		fails []int
		ok    []int
	}{
		{404.0, []int{404}, []int{403, 405}},
		{"404", []int{404}, []int{400}},
		{">=400", []int{400, 599}, []int{399}},
		{">399", []int{400}, []int{399}},
		{"<=199", []int{100, 199}, []int{200}},
		{"<200", []int{199}, []int{200}},
		{"500-503", []int{500, 503}, []int{499, 504}},
		{"5xx", []int{500, 599}, []int{499, 600}},
		{"4XX", []int{404}, []int{500}},
		{" >= 500 ", []int{500}, []int{499}},
		{404, []int{404}, nil},
	} {
		m, err := readFailOnStatus([]any{tt.entry})
		require.NoError(t, err, tt.entry)
		for _, code := range tt.fails {
			_, ok := failingMatch(m, code)
			require.True(t, ok, "%v should fail %d", tt.entry, code)
		}
		for _, code := range tt.ok {
			_, ok := failingMatch(m, code)
			require.False(t, ok, "%v should not fail %d", tt.entry, code)
		}
	}
	one, err := readFailOnStatus(">=500")
	require.NoError(t, err, "one entry needs no list")
	require.Len(t, one, 1)
	none, err := readFailOnStatus([]any{})
	require.NoError(t, err)
	require.Empty(t, none)
	for _, bad := range []any{"600-500", 404.5, "abc", true, "6xx", "<100x", map[string]any{}} {
		_, err := readFailOnStatus([]any{bad})
		require.Error(t, err, "%v", bad)
	}
}

// The timeout parameter and the action's timeout each end a slow request as a timeout, and
// cancellation as cancelled, within a generous bound.
func TestHTTPTimeoutsAndCancel(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(t)
	t.Run("TimeoutParameter", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		res := runHTTP(t, map[string]any{"url": srv.URL + "/slow", "timeout": 0.3})
		require.Equal(t, attune.StatusTimeout, res.Status)
		require.Equal(t, -1, res.ExitCode)
		require.Equal(t, "timed out after 300ms (the timeout parameter)", res.Error)
		require.Less(t, time.Since(start), 10*time.Second)
	})
	t.Run("ActionTimeout", func(t *testing.T) {
		t.Parallel()
		req := httpRequest(map[string]any{"url": srv.URL + "/slow"})
		req.Timeout = 300 * time.Millisecond
		res, err := setup(t).set.Run(context.Background(), req)
		require.NoError(t, err)
		require.Equal(t, attune.StatusTimeout, res.Status)
		require.Equal(t, "timed out after 300ms", res.Error)
	})
	t.Run("Cancel", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(300*time.Millisecond, func() { cancel(errors.New("operator asked")) })
		res, err := setup(t).set.Run(ctx, httpRequest(map[string]any{"url": srv.URL + "/slow"}))
		require.NoError(t, err)
		require.Equal(t, attune.StatusCancelled, res.Status)
		require.Equal(t, "cancelled: operator asked", res.Error)
	})
}

// A request that gets no response fails with the reason.
func TestHTTPConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	res := runHTTP(t, map[string]any{"url": "http://" + addr + "/x"})

	require.Equal(t, attune.StatusFailed, res.Status)
	require.Equal(t, 1, res.ExitCode)
	require.Contains(t, res.Error, "connection refused")
	require.Contains(t, res.Error, addr)
	require.Nil(t, res.Data)
}
