package runtimes

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/attune-run/attune"
)

// maxErrorLen bounds Result.Error, which is meant to be one line.
const maxErrorLen = 1024

// resultDoc is the stored shape of a Result.
type resultDoc struct {
	ExitCode        int    `json:"exit_code"`
	DurationMS      int64  `json:"duration_ms"`
	Succeeded       bool   `json:"succeeded"`
	Stdout          string `json:"stdout"`
	Stderr          string `json:"stderr,omitempty"`
	Data            any    `json:"data,omitempty"`
	Error           string `json:"error,omitempty"`
	StdoutTruncated bool   `json:"stdout_truncated,omitempty"`
	StderrTruncated bool   `json:"stderr_truncated,omitempty"`
}

// JSON renders the result as stored in attune.execution.result:
//
//	{"exit_code":0,"duration_ms":5,"succeeded":true,"stdout":"…","stderr":"…","data":{…},
//	 "error":"…","stdout_truncated":true,"stderr_truncated":true}
//
// stderr, data, error and the truncation flags are left out when empty; stdout is always there,
// even when it was parsed into data. If Data cannot be rendered as JSON it is left out and the
// reason appended to error.
func (r Result) JSON() json.RawMessage {
	doc := resultDoc{
		ExitCode:        r.ExitCode,
		DurationMS:      r.Duration.Milliseconds(),
		Succeeded:       r.Status == attune.StatusCompleted,
		Stdout:          r.Stdout,
		Stderr:          r.Stderr,
		Data:            r.Data,
		Error:           r.Error,
		StdoutTruncated: r.StdoutTruncated,
		StderrTruncated: r.StderrTruncated,
	}
	b, err := compactJSON(doc)
	if err != nil {
		doc.Data = nil
		doc.Error = strings.TrimPrefix(doc.Error+"; result data is not JSON: "+err.Error(), "; ")
		b, _ = compactJSON(doc) // cannot fail: only strings, numbers and booleans are left
	}
	return b
}

// parseJSONOutput parses stdout as one JSON document, or failing that its last non-empty line
// (lastLine, which the caller takes from the whole stream even when stdout was truncated).
func parseJSONOutput(stdout, lastLine string) (any, error) {
	if strings.TrimSpace(stdout) == "" {
		return nil, errors.New("output_format json: stdout is not JSON: stdout is empty")
	}
	var whole any
	err := json.Unmarshal([]byte(stdout), &whole)
	if err == nil {
		return whole, nil
	}
	if lastLine != "" {
		var last any
		if json.Unmarshal([]byte(lastLine), &last) == nil {
			return last, nil
		}
	}
	return nil, fmt.Errorf("output_format json: stdout is not JSON: %w", err)
}

// oneLine returns the first line of s, cut to maxErrorLen bytes.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	s = strings.TrimSpace(s)
	if len(s) > maxErrorLen {
		s = string(TrimIncompleteRune([]byte(s[:maxErrorLen]))) + "…"
	}
	return s
}
