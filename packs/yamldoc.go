package packs

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/attune-run/attune/internal/yamlsrc"
)

// yamlDoc is one parsed YAML file: its name and its syntax tree, kept to find the line of any key.
// Its values live in scopes.
type yamlDoc struct {
	file  string // the name shown in problems
	body  ast.Node
	probs *problems
}

// parseYAML parses data as a single YAML document holding a mapping, and returns the top-level
// scope, its values normalised to what encoding/json decodes. On failure it records the problem
// and returns false. Nesting deeper than MaxYAMLDepth and aliases that would expand the document
// beyond their limits are problems found before anything is expanded.
func parseYAML(file string, data []byte, probs *problems) (scope, bool) {
	body, yerr := yamlsrc.Document(data)
	if yerr != nil {
		probs.add(file, yerr.Line, yerr.Col, "%s", yerr.Msg)
		return scope{}, false
	}
	var raw any
	if err := yaml.NodeToValue(body, &raw); err != nil {
		addYAMLError(probs, file, err)
		return scope{}, false
	}
	d := &yamlDoc{file: file, body: body, probs: probs}
	top, ok := raw.(map[string]any)
	if !ok {
		line, col := tokenPos(d.body)
		probs.add(file, line, col, "expected a mapping of keys like ref: and description:, found %s", yamlsrc.Describe(normalise(raw)))
		return scope{}, false
	}
	s := scope{d: d, m: make(map[string]any, len(top))}
	for _, k := range sortedKeys(top) {
		v, err := toJSONValue(top[k])
		if err != nil {
			s.errorf(k, "%s cannot be stored as JSON: %v", k, err)
			continue
		}
		s.m[k] = v
	}
	return s, true
}

// addYAMLError records a goccy parse or decode error at its token's position.
func addYAMLError(probs *problems, file string, err error) {
	e := yamlsrc.ParseError(err)
	probs.add(file, e.Line, e.Col, "%s", e.Msg)
}

// toJSONValue round-trips v through encoding/json, so numbers become float64 and every map is a
// map[string]any, exactly as the value will look once stored as jsonb and read back.
func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// normalise is toJSONValue for values that are known to be JSON-able; it returns v unchanged on
// failure.
func normalise(v any) any {
	out, err := toJSONValue(v)
	if err != nil {
		return v
	}
	return out
}

// pos returns the position of the deepest element of path found in the document: the key itself
// when it exists, else its nearest existing ancestor; 0, 0 when not even the first key exists.
// In a list, a path element is the item's index.
func (d *yamlDoc) pos(path []string) (line, col int) {
	n := d.body
	for _, key := range path {
		if item := findItem(n, key); item != nil {
			line, col = tokenPos(item)
			n = item
			continue
		}
		kv := findKey(n, key)
		if kv == nil {
			break
		}
		line, col = tokenPos(kv.Key)
		n = kv.Value
	}
	return line, col
}

// findItem returns item number index of the list n, or nil.
func findItem(n ast.Node, index string) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
			continue
		case *ast.TagNode:
			n = v.Value
			continue
		case *ast.SequenceNode:
			i, err := strconv.Atoi(index)
			if err != nil || i < 0 || i >= len(v.Values) {
				return nil
			}
			return v.Values[i]
		}
		return nil
	}
}

// sortedKeys returns m's keys in order, so problems and results do not depend on map order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dotted joins a key path for messages: parameters.message.type.
func dotted(path []string) string { return strings.Join(path, ".") }

// findKey returns the key/value pair named key in the mapping n (see yamlsrc.FindKey).
func findKey(n ast.Node, key string) *ast.MappingValueNode { return yamlsrc.FindKey(n, key) }

// tokenPos returns the line and column where n starts (see yamlsrc.TokenPos).
func tokenPos(n ast.Node) (line, col int) { return yamlsrc.TokenPos(n) }
