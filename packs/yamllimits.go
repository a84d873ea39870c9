package packs

import "github.com/attune-run/attune/internal/yamlsrc"

// MaxYAMLDepth is how deeply the mappings and lists of a pack file may nest, the file's top-level
// mapping being level 1, once aliases are expanded. The limits are checked in yamlsrc.Document,
// which workflow files go through too.
const MaxYAMLDepth = yamlsrc.MaxDepth
