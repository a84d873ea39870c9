package runtimes

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attune-run/attune"
)

// httpRunner is the http runtime: it makes one HTTP request in process, with net/http, and
// starts no process. Its connections are pooled across runs.
type httpRunner struct {
	cfg       Config
	transport *http.Transport
}

// newHTTPRunner returns an http runtime using a copy of http.DefaultTransport, so proxies
// come from HTTP_PROXY, HTTPS_PROXY and NO_PROXY as for any Go program.
func newHTTPRunner(cfg Config) *httpRunner {
	return &httpRunner{cfg: cfg, transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// Causes of a request's context ending, told apart to report the right timeout.
var (
	errRequestTimeout = errors.New("the timeout parameter elapsed")
	errActionTimeout  = errors.New("the action's timeout elapsed")
)

// Run makes the request its parameters describe (see the package documentation) and
// completes with the response in Data, whatever its status, unless fail_on_status names that
// status. A request that gets no response fails; one that outlives its timeout parameter or the
// action's timeout times out.
func (r *httpRunner) Run(ctx context.Context, req Request) (Result, error) {
	start := time.Now()
	if ctx.Err() != nil {
		return cancelled(ctx, time.Since(start)), nil
	}
	call, err := readHTTPCall(req.Parameters)
	if err != nil {
		return failure(oneLine(err.Error()), time.Since(start)), nil
	}
	limit, cause := call.timeout, errRequestTimeout
	if t := req.timeout(); t < limit {
		limit, cause = t, errActionTimeout
	}
	rctx, cancel := context.WithTimeoutCause(ctx, limit, cause)
	defer cancel()

	var body io.Reader
	if call.body != nil {
		body = bytes.NewReader(call.body)
	}
	hreq, err := http.NewRequestWithContext(rctx, call.method, call.url.String(), body)
	if err != nil {
		return failure(oneLine(fmt.Sprintf("url: %v", unwrapURLError(err))), time.Since(start)), nil
	}
	hreq.Header = call.header
	client := &http.Client{Transport: r.transport, CheckRedirect: call.checkRedirect}
	log := r.cfg.Logger.With("execution_id", req.ExecutionID, "action", req.Action.Ref)
	log.Debug("http request", "method", call.method, "url", call.url.Redacted())

	resp, err := client.Do(hreq)
	if err != nil {
		return r.noResponse(ctx, rctx, limit, err, start), nil
	}
	defer func() { _ = resp.Body.Close() }()
	content, truncated, err := readCapped(resp.Body, r.cfg.OutputCap)
	if err != nil {
		return r.noResponse(ctx, rctx, limit, fmt.Errorf("%s %s: read response body: %w", call.method, call.url.Redacted(), err), start), nil
	}
	elapsed := time.Since(start)
	res := Result{
		Status:   attune.StatusCompleted,
		Data:     responseData(resp, content, truncated, elapsed),
		Duration: elapsed,
	}
	if m, ok := failingMatch(call.failOn, resp.StatusCode); ok {
		res.Status, res.ExitCode = attune.StatusFailed, 1
		res.Error = oneLine(fmt.Sprintf("%s %s: HTTP %s, which fail_on_status %q fails",
			call.method, resp.Request.URL.Redacted(), resp.Status, m.text))
	}
	log.Debug("http response", "status_code", resp.StatusCode, "elapsed", elapsed)
	return res, nil
}

// noResponse is the Result of a request that got no (whole) response: cancelled when ctx is
// done, timed out when rctx's deadline passed, else failed with err.
func (r *httpRunner) noResponse(ctx, rctx context.Context, limit time.Duration, err error, start time.Time) Result {
	d := time.Since(start)
	switch cause := context.Cause(rctx); {
	case ctx.Err() != nil:
		return cancelled(ctx, d)
	case errors.Is(cause, errRequestTimeout):
		return Result{Status: attune.StatusTimeout, ExitCode: -1, Duration: d,
			Error: fmt.Sprintf("timed out after %s (the timeout parameter)", limit)}
	case errors.Is(cause, errActionTimeout):
		return Result{Status: attune.StatusTimeout, ExitCode: -1, Duration: d,
			Error: fmt.Sprintf("timed out after %s", limit)}
	}
	return Result{Status: attune.StatusFailed, ExitCode: 1, Error: oneLine(err.Error()), Duration: d}
}

// checkRedirect follows redirects when follow_redirects is true, up to max_redirects of them;
// otherwise the redirect response itself is the result. net/http drops the Authorization
// header when a redirect leaves the original host.
func (c httpCall) checkRedirect(_ *http.Request, via []*http.Request) error {
	if !c.followRedirects {
		return http.ErrUseLastResponse
	}
	if len(via) > c.maxRedirects {
		return fmt.Errorf("stopped after %d redirects (max_redirects)", c.maxRedirects)
	}
	return nil
}

// readCapped reads r to its end, keeping the first limit bytes; truncated reports that there
// was more, which is then not read.
func readCapped(r io.Reader, limit int) (content []byte, truncated bool, err error) {
	content, err = io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if len(content) > limit {
		return content[:limit], true, err
	}
	return content, false, err
}

// responseData is the Data of a response:
//
//	{"status_code": 200, "headers": {"Content-Type": "application/json"}, "body": "…",
//	 "json": {…}, "elapsed_ms": 12, "url": "https://final.example/after/redirects"}
//
// Headers repeated in the response are joined with ", ". json is the parsed body when the
// response's Content-Type is JSON (application/json or any +json type) and the body is whole
// and valid, else null. A body that is not UTF-8 text is base64-encoded, with
// "body_encoding": "base64"; a body cut at the output cap has "body_truncated": true.
func responseData(resp *http.Response, content []byte, truncated bool, elapsed time.Duration) map[string]any {
	headers := make(map[string]any, len(resp.Header))
	for name, vals := range resp.Header {
		headers[name] = strings.Join(vals, ", ")
	}
	data := map[string]any{
		"status_code": resp.StatusCode,
		"headers":     headers,
		"json":        nil,
		"elapsed_ms":  elapsed.Milliseconds(),
		"url":         resp.Request.URL.Redacted(),
	}
	if utf8.Valid(content) {
		data["body"] = string(content)
	} else {
		data["body"] = base64.StdEncoding.EncodeToString(content)
		data["body_encoding"] = "base64"
	}
	if truncated {
		data["body_truncated"] = true
	} else if isJSONMedia(resp.Header.Get("Content-Type")) {
		var v any
		if json.Unmarshal(content, &v) == nil {
			data["json"] = v
		}
	}
	return data
}

// isJSONMedia reports whether a Content-Type names JSON: application/json or a +json type.
func isJSONMedia(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
