package runtimes

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/attune-run/attune"
)

// parseOutput parses the stdout of a successful run as its action's output format declares,
// into Result.Data: nil for text. lastLine is the last non-empty line of the whole stream,
// which the json format falls back on.
func parseOutput(format, stdout, lastLine string) (any, error) {
	switch format {
	case "", attune.OutputText:
		return nil, nil
	case attune.OutputJSON:
		return parseJSONOutput(stdout, lastLine)
	case attune.OutputYAML:
		return parseYAMLOutput(stdout)
	case attune.OutputJSONL:
		return parseJSONLines(stdout), nil
	default:
		return nil, fmt.Errorf("output_format %q is not supported; use one of %s",
			format, strings.Join(attune.OutputFormats, ", "))
	}
}

// parseYAMLOutput parses stdout as one YAML document, with its values turned into what
// encoding/json would decode (map[string]any, []any, float64, string, bool, nil) so that the
// data reads the same whatever format produced it: YAML timestamps become RFC 3339 strings,
// and mapping keys that are not strings their text. Empty stdout is an error, as for json: the
// action promised a document.
func parseYAMLOutput(stdout string) (any, error) {
	if strings.TrimSpace(stdout) == "" {
		return nil, errors.New("output_format yaml: stdout is not YAML: stdout is empty")
	}
	var v any
	dec := yaml.NewDecoder(strings.NewReader(stdout))
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("output_format yaml: stdout is not YAML: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return nil, errors.New("output_format yaml: stdout holds more than one YAML document; print one")
	}
	b, err := compactJSON(jsonKeys(v))
	if err != nil {
		return nil, fmt.Errorf("output_format yaml: stdout has a value JSON cannot hold: %w", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("output_format yaml: %w", err)
	}
	return out, nil
}

// jsonKeys turns the map[any]any that YAML gives for mappings with non-string keys (1: a,
// true: b) into map[string]any, keys written with fmt.Sprint, throughout v.
func jsonKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = jsonKeys(e)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = jsonKeys(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = jsonKeys(e)
		}
		return v
	default:
		return v
	}
}

// parseJSONLines returns every line of stdout that parses as JSON, in order, as an array;
// blank lines and lines that are not JSON (log lines, the truncation marker) are skipped. It is
// never nil: no parseable line gives an empty array.
func parseJSONLines(stdout string) []any {
	out := []any{}
	for line := range strings.SplitSeq(stdout, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var v any
		if json.Unmarshal([]byte(line), &v) == nil {
			out = append(out, v)
		}
	}
	return out
}
