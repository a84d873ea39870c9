package workflows

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/attune-run/attune/internal/yamlsrc"
)

// anchorCollector records every anchor's value, so an alias can be located at what it names.
type anchorCollector map[string]ast.Node

// Visit implements ast.Visitor.
func (a anchorCollector) Visit(n ast.Node) ast.Visitor {
	if an, ok := n.(*ast.AnchorNode); ok && an.Name != nil {
		a[an.Name.GetToken().Value] = an.Value
	}
	return a
}

// parser collects the problems of one Parse.
type parser struct {
	file    string
	anchors map[string]ast.Node
	index   map[*ast.MappingNode]map[string]*ast.MappingValueNode // see findKey
	probs   Problems
}

// node is a decoded value together with the syntax node it came from, for positions. ast is
// nil when the value has no node of its own; line and col are then its parent's.
type node struct {
	v         any
	ast       ast.Node
	line, col int
}

// deref looks through anchors, tags and aliases.
func (p *parser) deref(n ast.Node) ast.Node {
	for range 100 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			n = p.anchors[v.Value.GetToken().Value]
		default:
			return n
		}
	}
	return n
}

// pos is where n starts.
func (n node) pos() (int, int) {
	if n.ast != nil {
		if l, c := yamlsrc.TokenPos(n.ast); l > 0 {
			return l, c
		}
	}
	return n.line, n.col
}

// at locates byte offset off of a string value: exactly as far as the scalar is written
// character for character (up to an escape or a line break), at the scalar's start beyond.
func (n node) at(off int) (int, int) {
	line, col := n.pos()
	s, ok := n.v.(string)
	if !ok || n.ast == nil || n.ast.GetToken() == nil {
		return line, col
	}
	tk := n.ast.GetToken()
	if lit, ok := n.ast.(*ast.LiteralNode); ok && lit.Value != nil && lit.Value.GetToken() != nil {
		// A block scalar's text starts on the line after its | or >, indented; goccy's column
		// for it is not where it starts, so count the indentation.
		tk = lit.Value.GetToken()
		line, col = tk.Position.Line, len(tk.Origin)-len(strings.TrimLeft(tk.Origin, " "))+1
	}
	raw := strings.TrimLeft(tk.Origin, " \t")
	switch tk.Type {
	case token.DoubleQuoteType, token.SingleQuoteType:
		raw = raw[1:]
		col++
	case token.StringType:
		// goccy places a plain scalar followed by blanks that much to the right: count from
		// the token before it on the line (the ":", "-" or "," it follows) instead.
		if prev := tk.Prev; prev != nil && prev.Position.Line == line {
			col = prev.Position.Column + utf8.RuneCountInString(prev.Value) + len(tk.Origin) - len(raw)
		}
	default:
		return line, col
	}
	if off > sameUntil(raw, s) {
		return n.pos() // past an escape or a line break: the text no longer maps column for column
	}
	return line, col + utf8.RuneCountInString(s[:off])
}

// sameUntil is the length of the common prefix of a and b that holds no line break.
func sameUntil(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] && a[i] != '\n' {
		i++
	}
	return i
}

// findKey returns the key/value pair named key in mapping n, or nil. Each mapping is indexed
// once, so reading a mapping of k keys costs k lookups, not k²: a workflow may have many tasks.
func (p *parser) findKey(n ast.Node, key string) *ast.MappingValueNode {
	m, ok := p.deref(n).(*ast.MappingNode)
	if !ok {
		return yamlsrc.FindKey(p.deref(n), key)
	}
	idx, ok := p.index[m]
	if !ok {
		idx = make(map[string]*ast.MappingValueNode, len(m.Values))
		for _, kv := range m.Values {
			if k := yamlsrc.KeyString(kv.Key); idx[k] == nil {
				idx[k] = kv
			}
		}
		p.index[m] = idx
	}
	if kv := idx[key]; kv != nil {
		return kv
	}
	return yamlsrc.FindKey(m, key) // a key a merge (<<) brings in
}

// child is the value of key in mapping n.
func (p *parser) child(n node, key string) node {
	m, _ := n.v.(map[string]any)
	line, col := n.pos()
	c := node{v: m[key], line: line, col: col}
	if kv := p.findKey(n.ast, key); kv != nil {
		c.ast = p.deref(kv.Value)
		c.line, c.col = yamlsrc.TokenPos(kv.Key)
		if c.ast != nil && c.ast.GetToken() == nil {
			c.ast = nil
		}
	}
	return c
}

// keyPos is where key is written in mapping n.
func (p *parser) keyPos(n node, key string) (int, int) {
	if kv := p.findKey(n.ast, key); kv != nil {
		return yamlsrc.TokenPos(kv.Key)
	}
	return n.pos()
}

// item is element i of list n.
func (p *parser) item(n node, i int) node {
	l, _ := n.v.([]any)
	line, col := n.pos()
	c := node{v: l[i], line: line, col: col}
	if seq, ok := p.deref(n.ast).(*ast.SequenceNode); ok && i < len(seq.Values) {
		c.ast = p.deref(seq.Values[i])
	}
	return c
}

// keys returns the keys of mapping n in the order they are written.
func (p *parser) keys(n node) []string {
	m, _ := n.v.(map[string]any)
	order := make([]string, 0, len(m))
	seen := make(map[string]bool, len(m))
	if mn, ok := p.deref(n.ast).(*ast.MappingNode); ok {
		for _, kv := range mn.Values {
			if k := yamlsrc.KeyString(kv.Key); !seen[k] {
				if _, ok := m[k]; ok {
					order = append(order, k)
					seen[k] = true
				}
			}
		}
	} else if mv, ok := p.deref(n.ast).(*ast.MappingValueNode); ok {
		order = append(order, yamlsrc.KeyString(mv.Key))
		seen[order[0]] = true
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(order, rest...)
}

// errorf records a problem at n.
func (p *parser) errorf(n node, format string, args ...any) {
	line, col := n.pos()
	p.errorAt(line, col, format, args...)
}

func (p *parser) errorAt(line, col int, format string, args ...any) {
	p.probs = append(p.probs, Problem{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// add records a problem found by an expression or value compiler.
func (p *parser) add(prob *Problem) {
	prob.File = p.file
	p.probs = append(p.probs, *prob)
}

// sorted returns the problems in file order, each once: a value an alias repeats is reported
// where its anchor is.
func (p *parser) sorted() Problems {
	out := slices.Clone(p.probs)
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return slices.Compact(out)
}

// mapping returns n as a mapping whose keys are all among known, recording a problem for each
// other key; ok is false when n is not a mapping.
func (p *parser) mapping(n node, what string, known []string) (map[string]any, bool) {
	m, ok := n.v.(map[string]any)
	if !ok {
		p.errorf(n, "%s must be a mapping with keys %s; found %s", what, strings.Join(known, ", "), yamlsrc.Describe(n.v))
		return nil, false
	}
	for _, k := range p.keys(n) {
		if slices.Contains(known, k) {
			continue
		}
		line, col := p.keyPos(n, k)
		if close := yamlsrc.Suggest(k, known); close != "" {
			p.errorAt(line, col, "unknown key %q in %s; did you mean %q?", k, what, close)
			continue
		}
		p.errorAt(line, col, "unknown key %q in %s; known keys: %s", k, what, strings.Join(known, ", "))
	}
	return m, true
}
