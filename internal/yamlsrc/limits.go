package yamlsrc

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// MaxDepth is how deeply the mappings and lists of a pack file may nest, the file's top-level
// mapping being level 1, once aliases are expanded.
const MaxDepth = 64

// How much aliases (*name) may add to a pack file once expanded: every use of an alias counts the
// values (scalars, mappings and lists) and the text of what its anchor names, each time.
const (
	maxAliasValues = 10_000
	maxAliasText   = 1 << 20
)

// DepthMsg and AliasMsg are the problems the limits give.
var (
	DepthMsg = fmt.Sprintf("nested more than %d levels deep; pack files are limited to %d levels of mappings and lists", MaxDepth, MaxDepth)
	AliasMsg = fmt.Sprintf("aliases may add at most %d values and %d MiB of text to a pack file", maxAliasValues, maxAliasText>>20)
)

// TooDeep returns the first token of toks that opens a mapping or list nested deeper than
// MaxDepth, or nil. It runs before parsing, whose cost grows with the square of the nesting:
// flow collections count by their brackets; block ones by the columns of the keys and list
// entries open at each point, which may count a list under a key at the key's column as one
// level, never more. Parsing then bounds the depth exactly (see limitCheck).
func TooDeep(toks token.Tokens) *token.Token {
	flow := 0
	var block []int // columns of the open block keys and entries
	for _, tk := range toks {
		switch {
		case tk.Type == token.SequenceStartType || tk.Type == token.MappingStartType:
			flow++
		case tk.Type == token.SequenceEndType || tk.Type == token.MappingEndType:
			flow = max(flow-1, 0)
			continue
		case flow > 0:
			continue
		case tk.Type == token.SequenceEntryType || tk.Type == token.MappingKeyType ||
			(tk.Next != nil && tk.Next.Type == token.MappingValueType && tk.Type != token.MappingValueType):
			for len(block) > 0 && block[len(block)-1] >= tk.Position.Column {
				block = block[:len(block)-1]
			}
			block = append(block, tk.Position.Column)
		default:
			continue
		}
		if len(block)+flow > MaxDepth {
			return tk
		}
	}
	return nil
}

// Error is a located problem with a YAML text. Line and Col are 1-based; 0 means unknown.
type Error struct {
	Line, Col int
	Msg       string
}

// Document parses data as one YAML document and returns its body. Nesting deeper than MaxDepth
// and aliases that would expand the document beyond their limits are errors found before
// anything is expanded; so are an empty file and a second document.
func Document(data []byte) (ast.Node, *Error) {
	toks := lexer.Tokenize(string(data))
	if tk := TooDeep(toks); tk != nil {
		return nil, &Error{Line: tk.Position.Line, Col: tk.Position.Column, Msg: DepthMsg}
	}
	f, err := parser.Parse(toks, 0)
	if err != nil {
		return nil, ParseError(err)
	}
	var bodies []ast.Node
	for _, d := range f.Docs {
		if d.Body != nil {
			bodies = append(bodies, d.Body)
		}
	}
	if len(bodies) == 0 {
		return nil, &Error{Msg: "file is empty; expected a YAML mapping"}
	}
	if len(bodies) > 1 {
		line, col := TokenPos(bodies[1])
		return nil, &Error{Line: line, Col: col, Msg: "found a second YAML document; put one definition per file"}
	}
	if n, msg := CheckLimits(bodies[0]); n != nil {
		line, col := TokenPos(n)
		return nil, &Error{Line: line, Col: col, Msg: msg}
	}
	return bodies[0], nil
}

// ParseError locates a goccy parse or decode error at its token.
func ParseError(err error) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		pos := ye.GetToken().Position
		return &Error{Line: pos.Line, Col: pos.Column, Msg: "invalid YAML: " + ye.GetMessage()}
	}
	return &Error{Msg: fmt.Sprintf("invalid YAML: %v", err)}
}

// size is what a node amounts to once its aliases are expanded.
type size struct {
	values int // scalars, mappings and lists
	text   int // bytes of string scalars
	height int // levels of mappings and lists: 0 for a scalar
}

// limitCheck walks a parsed document, expanding nothing, to find the first place where nesting
// goes beyond MaxDepth or aliases add more than their limits.
type limitCheck struct {
	anchors     map[string]size
	aliasValues int
	aliasText   int
	at          ast.Node // where the first problem is, nil when none
	msg         string
}

// CheckLimits returns the node and message of the first limit body exceeds, or nil.
func CheckLimits(body ast.Node) (ast.Node, string) {
	c := &limitCheck{anchors: map[string]size{}}
	c.walk(body, 1)
	return c.at, c.msg
}

// fail records the first problem.
func (c *limitCheck) fail(n ast.Node, msg string) {
	if c.at == nil {
		c.at, c.msg = n, msg
	}
}

// walk returns n's size; level is the level a mapping or list at n is at.
func (c *limitCheck) walk(n ast.Node, level int) size {
	if c.at != nil || n == nil {
		return size{}
	}
	switch n := n.(type) {
	case *ast.MappingNode:
		s := c.collection(n, level)
		for _, kv := range n.Values {
			s = s.add(c.pair(kv, level))
		}
		return s
	case *ast.MappingValueNode: // a mapping of one key
		return c.collection(n, level).add(c.pair(n, level))
	case *ast.SequenceNode:
		s := c.collection(n, level)
		for _, v := range n.Values {
			s = s.add(c.walk(v, level+1))
		}
		return s
	case *ast.AnchorNode:
		s := c.walk(n.Value, level)
		c.anchors[tokenValue(n.Name)] = s
		return s
	case *ast.AliasNode:
		name := tokenValue(n.Value)
		s := c.anchors[name]
		c.aliasValues += s.values
		c.aliasText += s.text
		switch {
		case c.aliasValues > maxAliasValues || c.aliasText > maxAliasText:
			c.fail(n, fmt.Sprintf("alias *%s expands the file too far; %s", clip(name), AliasMsg))
		case s.height > 0 && level+s.height-1 > MaxDepth:
			c.fail(n, DepthMsg)
		}
		return s
	case *ast.TagNode:
		return c.walk(n.Value, level)
	case *ast.MappingKeyNode:
		return c.walk(n.Value, level)
	case *ast.StringNode:
		return size{values: 1, text: len(n.Value)}
	case *ast.LiteralNode:
		return size{values: 1, text: len(n.Value.Value)}
	}
	return size{values: 1}
}

// pair is the size of a key and its value in a mapping at level, as one child of the mapping.
func (c *limitCheck) pair(kv *ast.MappingValueNode, level int) size {
	k, v := c.walk(kv.Key, level+1), c.walk(kv.Value, level+1)
	return size{values: k.values + v.values, text: k.text + v.text, height: max(k.height, v.height)}
}

// collection is the size of an empty mapping or list at level, checking the level.
func (c *limitCheck) collection(n ast.Node, level int) size {
	if level > MaxDepth {
		c.fail(n, DepthMsg)
	}
	return size{values: 1, height: 1}
}

// add is s with a child of s added.
func (s size) add(child size) size {
	return size{values: s.values + child.values, text: s.text + child.text, height: max(s.height, child.height+1)}
}

// tokenValue is the text of n's token, "" when there is none.
func tokenValue(n ast.Node) string {
	if n == nil || n.GetToken() == nil {
		return ""
	}
	return n.GetToken().Value
}

// clipAt is how much of a long name a problem quotes.
const clipAt = 40

// clip returns s, or its first characters and "…" when it is too long to quote whole.
func clip(s string) string { return Clip(s, clipAt) }

// Clip returns s, or its first most characters (not bytes: a message never holds half a
// character) and "…" when it has more.
func Clip(s string, most int) string {
	n := 0
	for i := range s {
		if n == most {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
