package runtimes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// shellIdentifier matches the names a POSIX shell accepts as variable names.
var shellIdentifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// encodeParams renders params as the stdin document of the given format. Its errors are one
// line meant for Result.Error.
func encodeParams(format string, params map[string]any) ([]byte, error) {
	switch format {
	case "", ParamFormatJSON:
		return encodeJSONParams(params)
	case ParamFormatDotenv:
		return encodeDotenv(params)
	case ParamFormatYAML:
		return encodeYAMLParams(params)
	default:
		return nil, fmt.Errorf("parameter format %q is not supported; use %q, %q or %q",
			format, ParamFormatJSON, ParamFormatDotenv, ParamFormatYAML)
	}
}

// encodeYAMLParams renders params as one YAML mapping, keys sorted. Strings that would read
// back as another type (`"5"`, `"true"`, `"null"`) are quoted, so the document keeps the JSON
// types of the values; multi-line strings are literal blocks. nil params are rendered as {}.
func encodeYAMLParams(params map[string]any) ([]byte, error) {
	if params == nil {
		params = map[string]any{}
	}
	b, err := yaml.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("parameters cannot be delivered as yaml: %w", err)
	}
	return b, nil
}

// encodeJSONParams renders params as one compact line of JSON followed by "\n". nil params are
// rendered as {}.
func encodeJSONParams(params map[string]any) ([]byte, error) {
	if params == nil {
		params = map[string]any{}
	}
	b, err := compactJSON(params)
	if err != nil {
		return nil, fmt.Errorf("parameters cannot be delivered as json: %w", err)
	}
	return append(b, '\n'), nil
}

// encodeDotenv renders params as key='value' lines sorted by key; see the package documentation
// for the rules.
func encodeDotenv(params map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	for _, k := range keys {
		v, err := dotenvValue(k, params[k])
		if err != nil {
			return nil, fmt.Errorf("parameter %q cannot be delivered as dotenv: %w", k, err)
		}
		buf.WriteString(k)
		buf.WriteByte('=')
		buf.WriteString(shellQuote(v))
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// dotenvValue returns the unquoted text of one dotenv value.
func dotenvValue(key string, v any) (string, error) {
	if !shellIdentifier.MatchString(key) {
		return "", fmt.Errorf("the name is not a shell identifier ([A-Za-z_][A-Za-z0-9_]*); rename it or use the json format")
	}
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		if strings.ContainsRune(v, 0) {
			return "", fmt.Errorf("the value contains a NUL byte, which a shell variable cannot hold; use the json format")
		}
		return v, nil
	default:
		b, err := compactJSON(v)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
}

// shellQuote single-quotes s for a POSIX shell. Between single quotes everything is literal; a
// quote in s closes the quotes, adds an escaped quote and reopens them:
//
//	it's  ->  'it'\''s'
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// compactJSON marshals v as compact JSON without HTML escaping and without a trailing newline.
func compactJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
