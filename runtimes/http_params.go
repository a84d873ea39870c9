package runtimes

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HTTPParameters are the parameters the http runtime understands; an http action declares
// some of them (core.http_request declares them all), and only them.
var HTTPParameters = []string{
	"url", "method", "headers", "query", "body", "json", "timeout",
	"auth_type", "auth_username", "auth_password", "auth_token",
	"fail_on_status", "follow_redirects", "max_redirects",
	// StackStorm's http-request names (core.http, Exchange packs), read as attune's own by
	// fromStackStormHTTP.
	"params", "allow_redirects", "username", "password", "cookies", "verify_ssl_cert",
}

// HTTPMethods are the methods an http action may use.
var HTTPMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// Defaults of the http runtime's parameters.
const (
	DefaultHTTPTimeout      = 30 * time.Second
	DefaultHTTPMaxRedirects = 10
)

// httpCall is one request, read from an http action's parameters.
type httpCall struct {
	url             *url.URL
	method          string
	header          http.Header
	body            []byte
	timeout         time.Duration
	followRedirects bool
	maxRedirects    int
	failOn          []statusMatch
}

// readHTTPCall reads and checks the parameters of an http action. Its errors name the
// parameter and say what it takes.
func readHTTPCall(p map[string]any) (httpCall, error) {
	c := httpCall{header: http.Header{}, timeout: DefaultHTTPTimeout, followRedirects: true, maxRedirects: DefaultHTTPMaxRedirects}
	for _, name := range sortedNames(p) {
		if !slices.Contains(HTTPParameters, name) {
			return c, fmt.Errorf("%s: unknown parameter for the http runtime (known: %s)", name, strings.Join(HTTPParameters, ", "))
		}
	}
	p, err := fromStackStormHTTP(p)
	if err != nil {
		return c, err
	}
	if c.url, err = readURL(p["url"]); err != nil {
		return c, err
	}
	if c.method, err = readMethod(p["method"]); err != nil {
		return c, err
	}
	if err = readHeaders(p["headers"], c.header); err != nil {
		return c, err
	}
	if err = readQuery(p["query"], c.url); err != nil {
		return c, err
	}
	if c.body, err = readBody(p["body"], p["json"], c.header); err != nil {
		return c, err
	}
	if err = readAuth(p, c.header); err != nil {
		return c, err
	}
	if v, ok := p["timeout"]; ok && v != nil {
		secs, ok := number(v)
		if !ok || secs <= 0 || secs > 24*3600 {
			return c, fmt.Errorf("timeout: must be a number of seconds above 0 and at most 86400, got %s", show(v))
		}
		c.timeout = time.Duration(secs * float64(time.Second))
	}
	if v, ok := p["follow_redirects"]; ok && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return c, fmt.Errorf("follow_redirects: must be true or false, got %s", show(v))
		}
		c.followRedirects = b
	}
	if v, ok := p["max_redirects"]; ok && v != nil {
		n, ok := number(v)
		if !ok || n < 0 || n > 100 || n != math.Trunc(n) {
			return c, fmt.Errorf("max_redirects: must be a whole number from 0 to 100, got %s", show(v))
		}
		c.maxRedirects = int(n)
	}
	if c.failOn, err = readFailOnStatus(p["fail_on_status"]); err != nil {
		return c, err
	}
	return c, nil
}

// readURL reads the url parameter: an absolute http or https URL.
func readURL(v any) (*url.URL, error) {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil, fmt.Errorf("url: required, an absolute http:// or https:// URL; got %s", show(v))
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("url: %q is not a URL: %v", s, unwrapURLError(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url: %q must be an absolute http:// or https:// URL", u.Redacted())
	}
	return u, nil
}

// unwrapURLError drops the *url.Error wrapper, which repeats the URL.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// readMethod reads the method parameter, GET when absent; case does not matter.
func readMethod(v any) (string, error) {
	if v == nil {
		return http.MethodGet, nil
	}
	s, _ := v.(string)
	m := strings.ToUpper(s)
	if !slices.Contains(HTTPMethods, m) {
		return "", fmt.Errorf("method: must be one of %s, got %s", strings.Join(HTTPMethods, ", "), show(v))
	}
	return m, nil
}

// readHeaders adds the headers parameter, an object of name to value (a string, number or
// boolean, or a list of them for a repeated header), to h.
func readHeaders(v any, h http.Header) error {
	m, err := object("headers", v)
	if err != nil {
		return err
	}
	for _, name := range sortedNames(m) {
		vals, err := scalars("headers."+name, m[name])
		if err != nil {
			return err
		}
		for _, s := range vals {
			h.Add(name, s)
		}
	}
	return nil
}

// readQuery adds the query parameter, an object of name to value (or list of values), to the
// query string of u, after what u already has.
func readQuery(v any, u *url.URL) error {
	m, err := object("query", v)
	if err != nil || len(m) == 0 {
		return err
	}
	q := u.Query()
	for _, name := range sortedNames(m) {
		vals, err := scalars("query."+name, m[name])
		if err != nil {
			return err
		}
		for _, s := range vals {
			q.Add(name, s)
		}
	}
	u.RawQuery = q.Encode()
	return nil
}

// readBody reads the body parameter (a string sent as it is) or the json parameter (any value,
// sent as JSON with Content-Type: application/json unless headers set one).
func readBody(body, jsonBody any, h http.Header) ([]byte, error) {
	switch {
	case body != nil && jsonBody != nil:
		return nil, fmt.Errorf("body and json: give one of them, not both")
	case body != nil:
		s, ok := body.(string)
		if !ok {
			return nil, fmt.Errorf("body: must be a string, got %s; send structured data with the json parameter", show(body))
		}
		return []byte(s), nil
	case jsonBody != nil:
		b, err := compactJSON(jsonBody)
		if err != nil {
			return nil, fmt.Errorf("json: cannot be encoded: %v", err)
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
		return b, nil
	}
	return nil, nil
}

// readAuth sets the Authorization header from auth_type (none, basic or bearer) and its
// credentials.
func readAuth(p map[string]any, h http.Header) error {
	str := func(name string) (string, error) {
		switch v := p[name].(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		default:
			// Not the value: it may be a secret.
			return "", fmt.Errorf("%s: must be a string, got %s", name, jsonType(v))
		}
	}
	kind, err := str("auth_type")
	if err != nil {
		return err
	}
	user, err1 := str("auth_username")
	pass, err2 := str("auth_password")
	token, err3 := str("auth_token")
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			return err
		}
	}
	if kind != "" && kind != "none" && h.Get("Authorization") != "" {
		return fmt.Errorf("headers.Authorization and auth_type %s: give one of them, not both", kind)
	}
	switch kind {
	case "", "none":
		if user != "" || pass != "" || token != "" {
			return fmt.Errorf("auth_type: credentials are given but auth_type is none; set auth_type to basic (auth_username, auth_password) or bearer (auth_token)")
		}
	case "basic":
		if user == "" {
			return fmt.Errorf("auth_username: required when auth_type is basic")
		}
		if token != "" {
			return fmt.Errorf("auth_token: not used with auth_type basic; remove it or set auth_type: bearer")
		}
		r := http.Request{Header: h}
		r.SetBasicAuth(user, pass)
	case "bearer":
		if token == "" {
			return fmt.Errorf("auth_token: required when auth_type is bearer")
		}
		if user != "" || pass != "" {
			return fmt.Errorf("auth_username, auth_password: not used with auth_type bearer; remove them or set auth_type: basic")
		}
		h.Set("Authorization", "Bearer "+token)
	default:
		return fmt.Errorf("auth_type: must be none, basic or bearer, got %s", show(p["auth_type"]))
	}
	return nil
}

// statusMatch is one entry of fail_on_status: the range of status codes [lo, hi] it matches,
// and how it was written.
type statusMatch struct {
	lo, hi int
	text   string
}

// statusEntry matches the string forms of a fail_on_status entry: 404, >=400, >399, <=199,
// <200, 500-599, 5xx.
var statusEntry = regexp.MustCompile(`^(?:(>=|>|<=|<)?\s*([0-9]{3})|([0-9]{3})\s*-\s*([0-9]{3})|([1-5])[xX][xX])$`)

// readFailOnStatus reads fail_on_status: a list (or one entry) of status codes (404 or "404"),
// comparisons (">=400"), ranges ("500-599") or classes ("5xx"). Absent or empty: no status
// fails the action.
func readFailOnStatus(v any) ([]statusMatch, error) {
	var entries []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		entries = v
	default:
		entries = []any{v}
	}
	out := make([]statusMatch, 0, len(entries))
	for i, e := range entries {
		m, ok := parseStatusMatch(e)
		if !ok {
			return nil, fmt.Errorf("fail_on_status[%d]: %s is not a status code (404), a comparison (>=400), a range (500-599) or a class (5xx)", i, show(e))
		}
		out = append(out, m)
	}
	return out, nil
}

// parseStatusMatch parses one fail_on_status entry.
func parseStatusMatch(e any) (statusMatch, bool) {
	var s string
	switch e := e.(type) {
	case string:
		s = strings.TrimSpace(e)
	default:
		n, ok := number(e)
		if !ok || n != math.Trunc(n) {
			return statusMatch{}, false
		}
		s = strconv.Itoa(int(n))
	}
	g := statusEntry.FindStringSubmatch(s)
	if g == nil {
		return statusMatch{}, false
	}
	m := statusMatch{text: s}
	switch {
	case g[5] != "":
		class, _ := strconv.Atoi(g[5])
		m.lo, m.hi = class*100, class*100+99
	case g[3] != "":
		m.lo, _ = strconv.Atoi(g[3])
		m.hi, _ = strconv.Atoi(g[4])
	default:
		n, _ := strconv.Atoi(g[2])
		switch g[1] {
		case "":
			m.lo, m.hi = n, n
		case ">=":
			m.lo, m.hi = n, 999
		case ">":
			m.lo, m.hi = n+1, 999
		case "<=":
			m.lo, m.hi = 0, n
		case "<":
			m.lo, m.hi = 0, n-1
		}
	}
	return m, m.lo <= m.hi
}

// failingMatch returns the first entry of matches that code falls in.
func failingMatch(matches []statusMatch, code int) (statusMatch, bool) {
	for _, m := range matches {
		if code >= m.lo && code <= m.hi {
			return m, true
		}
	}
	return statusMatch{}, false
}

// object returns v as an object; nil is an empty one.
func object(name string, v any) (map[string]any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return v, nil
	default:
		return nil, fmt.Errorf("%s: must be an object of name: value, got %s", name, show(v))
	}
}

// scalars returns the text of v, a string, number or boolean, or of each item of a list of them.
func scalars(name string, v any) ([]string, error) {
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		switch item := item.(type) {
		case string:
			out = append(out, item)
		case bool, float64, int, int64, json.Number:
			b, _ := compactJSON(item)
			out = append(out, string(b))
		default:
			return nil, fmt.Errorf("%s: must be a string, number or boolean (or a list of them), got %s", name, show(item))
		}
	}
	return out, nil
}

// number returns v as a float64 when it is a number.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// show describes a parameter value for a message: its JSON text, cut short.
func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, err := compactJSON(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	s := string(b)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// sortedNames returns the keys of m, sorted.
func sortedNames(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// jsonType names the JSON type of v, for messages about values that must not be shown.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	if _, ok := number(v); ok {
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}

// fromStackStormHTTP rewrites StackStorm's http-request parameter names into attune's: params
// is query, allow_redirects is follow_redirects, username and password are basic
// authentication, cookies become one Cookie header. verify_ssl_cert: false is refused: attune
// always verifies certificates (install the CA on the worker instead). Giving a name in both
// spellings is an error.
func fromStackStormHTTP(p map[string]any) (map[string]any, error) {
	renames := [][2]string{{"params", "query"}, {"allow_redirects", "follow_redirects"}, {"username", "auth_username"}, {"password", "auth_password"}}
	needed := false
	for _, r := range renames {
		if _, ok := p[r[0]]; ok {
			needed = true
		}
	}
	_, cookies := p["cookies"]
	_, verify := p["verify_ssl_cert"]
	if !needed && !cookies && !verify {
		return p, nil
	}
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = v
	}
	for _, r := range renames {
		v, ok := out[r[0]]
		if !ok {
			continue
		}
		delete(out, r[0])
		if v == nil {
			continue
		}
		if _, both := out[r[1]]; both && out[r[1]] != nil {
			return nil, fmt.Errorf("%s and %s: they are the same parameter (StackStorm's name and attune's); give one", r[0], r[1])
		}
		out[r[1]] = v
	}
	if _, basic := out["auth_username"]; basic && out["auth_type"] == nil {
		out["auth_type"] = "basic"
	}
	if v, ok := out["verify_ssl_cert"]; ok {
		delete(out, "verify_ssl_cert")
		if b, isBool := v.(bool); v != nil && (!isBool || !b) {
			return nil, fmt.Errorf("verify_ssl_cert: attune always verifies TLS certificates; install the server's CA certificate on the worker instead of turning verification off")
		}
	}
	if v, ok := out["cookies"]; ok {
		delete(out, "cookies")
		if v != nil {
			m, err := object("cookies", v)
			if err != nil {
				return nil, err
			}
			var parts []string
			for _, name := range sortedNames(m) {
				vals, err := scalars("cookies."+name, m[name])
				if err != nil {
					return nil, err
				}
				for _, val := range vals {
					parts = append(parts, name+"="+val)
				}
			}
			headers := map[string]any{}
			if h, ok := out["headers"].(map[string]any); ok {
				for k, hv := range h {
					headers[k] = hv
				}
			}
			if len(parts) > 0 {
				headers["Cookie"] = strings.Join(parts, "; ")
			}
			out["headers"] = headers
		}
	}
	return out, nil
}
