package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
)

// FieldError is one field at fault in a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors,omitempty"`
}

// Error returns the detail.
func (p *Problem) Error() string { return p.Detail }

// problem builds a problem with status and detail.
func problem(status int, format string, args ...any) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: fmt.Sprintf(format, args...)}
}

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	encode(w, p)
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	encode(w, v)
}

// encode writes v as JSON without HTML escaping ("must be <= 3600" stays readable).
func encode(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// MaxDepth is the deepest nesting of arrays and objects accepted in a JSON body.
const MaxDepth = attune.MaxNestingDepth

// readBody reads the whole request body, within the cap set by the server (413 past it).
func readBody(r *http.Request) ([]byte, *Problem) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, problem(http.StatusRequestEntityTooLarge,
				"the request body is larger than %d bytes (http.max_body); send less", mbe.Limit)
		}
		return nil, problem(http.StatusBadRequest, "reading the request body failed: %v", err)
	}
	return b, nil
}

// checkJSON rejects a body that is not UTF-8, not one JSON value, or nested deeper than
// MaxDepth, before it is decoded.
func checkJSON(b []byte) *Problem {
	if !utf8.Valid(b) {
		return problem(http.StatusBadRequest, "the request body is not valid UTF-8; send JSON encoded as UTF-8")
	}
	if err := params.CheckJSONDepth("the JSON body", b, MaxDepth); err != nil {
		return problem(http.StatusBadRequest, "%v", err)
	}
	if !json.Valid(b) {
		var v any
		err := json.Unmarshal(b, &v)
		return problem(http.StatusBadRequest, "the request body is not valid JSON: %v", err)
	}
	return nil
}

// decodeObject reads a JSON object body into its fields, after checkJSON.
func decodeObject(r *http.Request) (map[string]json.RawMessage, *Problem) {
	b, p := readBody(r)
	if p != nil {
		return nil, p
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, problem(http.StatusBadRequest, "the request body is empty; send a JSON object")
	}
	if p := checkJSON(b); p != nil {
		return nil, p
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, problem(http.StatusBadRequest, "the request body must be a JSON object ({...})")
	}
	return m, nil
}

// fields collects field errors and turns them into one 422.
type fields []FieldError

func (f *fields) add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (f fields) problem(detail string) *Problem {
	if len(f) == 0 {
		return nil
	}
	p := problem(http.StatusUnprocessableEntity, "%s", detail)
	slices.SortStableFunc(f, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	p.Errors = f
	return p
}

// unknownFields adds an error for every key of m not in known.
func (f *fields) unknownFields(m map[string]json.RawMessage, known ...string) {
	for k := range m {
		found := false
		for _, kk := range known {
			found = found || k == kk
		}
		if !found {
			f.add(k, "unknown field (known: %v)", known)
		}
	}
}
