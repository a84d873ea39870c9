package yamlsrc

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// FindKey returns the key/value pair named key in the mapping n, looking through anchors, tags
// and merge keys whose value is written in place.
func FindKey(n ast.Node, key string) *ast.MappingValueNode {
	var values []*ast.MappingValueNode
	switch n := n.(type) {
	case *ast.AnchorNode:
		return FindKey(n.Value, key)
	case *ast.TagNode:
		return FindKey(n.Value, key)
	case *ast.MappingNode:
		values = n.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{n}
	default:
		return nil
	}
	for _, kv := range values {
		if KeyString(kv.Key) == key {
			return kv
		}
	}
	for _, kv := range values {
		if _, merge := kv.Key.(*ast.MergeKeyNode); merge {
			if found := FindKey(kv.Value, key); found != nil {
				return found
			}
		}
	}
	return nil
}

// KeyString is a mapping key as the decoder turns it into a map[string]any key.
func KeyString(k ast.MapKeyNode) string {
	switch k := k.(type) {
	case *ast.MergeKeyNode:
		return "<<"
	case ast.ScalarNode:
		return fmt.Sprint(k.GetValue())
	}
	return k.String()
}

// TokenPos returns the line and column where n starts.
func TokenPos(n ast.Node) (line, col int) {
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		n = m.Values[0].Key // a block mapping's own token is its first ':'
	}
	if n == nil || n.GetToken() == nil {
		return 0, 0
	}
	p := n.GetToken().Position
	return p.Line, p.Column
}

// Suggest returns the one key of known that key is a likely typo of, or "": the closest by edit
// distance, ignoring case, when within 2 edits and no other key is as close.
func Suggest(key string, known []string) string {
	best, bestDist, tie := "", 3, false
	lower := strings.ToLower(key)
	for _, k := range known {
		d := editDistance(lower, strings.ToLower(k))
		switch {
		case d >= len(key):
			continue // nothing of key is left: not a typo
		case d < bestDist:
			best, bestDist, tie = k, d, false
		case d == bestDist:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes: keys are ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Describe names the JSON type of v for a problem message, quoting a string (its first 40
// characters).
func Describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing (null)"
	case string:
		return fmt.Sprintf("the string %q", clip(v))
	case bool:
		return fmt.Sprintf("the boolean %t", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}
