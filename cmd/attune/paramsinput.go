package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/goccy/go-yaml"
)

// maxParamsFile caps what one key=@file argument or --params-file reads, so a mistaken
// /dev/zero ends in an error rather than out of memory.
const maxParamsFile = 16 << 20

// parseParams reads httpie-style arguments into parameters:
//
//	key=value    the string value
//	key:=json    a raw JSON value
//	key=@file    the file's text as a string, one trailing newline dropped (@- is stdin)
//	key:=@file   a JSON value read from the file
//	key=@@text   the string "@text": a leading @@ stands for a literal @
//
// A key given twice is an error, naming the arguments' positions but not their values, which may
// be secrets.
func parseParams(args []string) (map[string]any, error) {
	stdin := false
	return parseParamsStdin(args, &stdin)
}

// parseParamsStdin is parseParams where stdin may have been read already (--params-file -).
func parseParamsStdin(args []string, stdin *bool) (map[string]any, error) {
	params := map[string]any{}
	seen := map[string]int{}
	for i, a := range args {
		k, v, err := parseParam(a, stdin)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[k]; dup {
			return nil, fmt.Errorf("parameter %s is given twice (arguments %d and %d); give each key once", k, first+1, i+1)
		}
		seen[k] = i
		params[k] = v
	}
	return params, nil
}

// parseParam parses one argument of parseParams. stdin records that @- was read already.
func parseParam(a string, stdin *bool) (string, any, error) {
	if k, raw, ok := strings.Cut(a, ":="); ok && !strings.Contains(k, "=") {
		if k == "" {
			return "", nil, fmt.Errorf("argument %q: parameters are key=value or key:=json", a)
		}
		source := "is not JSON"
		if file, ok := strings.CutPrefix(raw, "@"); ok {
			b, err := readParamSource(file, stdin)
			if err != nil {
				return "", nil, fmt.Errorf("parameter %s: %w", k, err)
			}
			raw, source = string(b), fmt.Sprintf("file %s does not hold JSON", file)
		}
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			if source == "is not JSON" {
				return "", nil, fmt.Errorf("parameter %s: %q is not JSON (use %s=%s for a string): %v", k, raw, k, raw, err)
			}
			return "", nil, fmt.Errorf("parameter %s: %s: %v", k, source, err)
		}
		return k, v, nil
	}
	k, v, ok := strings.Cut(a, "=")
	if !ok || k == "" {
		return "", nil, fmt.Errorf("argument %q: parameters are key=value or key:=json", a)
	}
	switch {
	case strings.HasPrefix(v, "@@"):
		return k, v[1:], nil
	case strings.HasPrefix(v, "@"):
		b, err := readParamSource(v[1:], stdin)
		if err != nil {
			return "", nil, fmt.Errorf("parameter %s: %w (a value starting with @ is a file; write @@ for a literal @)", k, err)
		}
		s := strings.TrimSuffix(string(b), "\n")
		return k, strings.TrimSuffix(s, "\r"), nil
	}
	return k, v, nil
}

// readParamSource reads a parameter file, or stdin for "-" (once per command).
func readParamSource(file string, stdin *bool) ([]byte, error) {
	if file == "" {
		return nil, fmt.Errorf("@ names no file")
	}
	var r io.Reader
	if file == "-" {
		if *stdin {
			return nil, fmt.Errorf("stdin (@-) can be read only once")
		}
		*stdin = true
		r = os.Stdin
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("read %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxParamsFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if len(b) > maxParamsFile {
		return nil, fmt.Errorf("%s is over %d MiB, the limit of a parameter file", file, maxParamsFile>>20)
	}
	return b, nil
}

// readParamsFile reads --params-file: a JSON or YAML object of parameters, from a file or from
// stdin ("-").
func readParamsFile(file string, stdin *bool) (map[string]any, error) {
	b, err := readParamSource(file, stdin)
	if err != nil {
		return nil, fmt.Errorf("--params-file: %w", err)
	}
	var raw any
	if err := yaml.UnmarshalWithOptions(b, &raw); err != nil {
		return nil, fmt.Errorf("--params-file %s: not a JSON or YAML object:\n%s", file, yaml.FormatError(err, false, true))
	}
	j, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("--params-file %s: %w", file, err)
	}
	var out map[string]any
	if err := json.Unmarshal(j, &out); err != nil || out == nil {
		return nil, fmt.Errorf("--params-file %s must hold an object of parameters, like {\"message\": \"hi\"} or message: hi", file)
	}
	return out, nil
}
