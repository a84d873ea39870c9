package packs

import (
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/attune-run/attune/internal/yamlsrc"
)

// MaxYAMLDepth is how deeply the mappings and lists of a pack file may nest, the file's top-level
// mapping being level 1, once aliases are expanded.
const MaxYAMLDepth = yamlsrc.MaxDepth

// depthMsg is the problem the depth limit gives.
var depthMsg = yamlsrc.DepthMsg

// tooDeep returns the first token of toks that opens a mapping or list nested deeper than
// MaxYAMLDepth, or nil (see yamlsrc.TooDeep).
func tooDeep(toks token.Tokens) *token.Token { return yamlsrc.TooDeep(toks) }

// checkLimits returns the node and message of the first limit body exceeds, or nil (see
// yamlsrc.CheckLimits).
func checkLimits(body ast.Node) (ast.Node, string) { return yamlsrc.CheckLimits(body) }
