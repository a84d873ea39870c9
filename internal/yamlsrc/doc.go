// Package yamlsrc is what the packs and workflows packages share about reading YAML that users
// wrote: the limits on nesting and aliases that are checked before anything is expanded, the
// line and column of any key, and the "did you mean" for a misspelt key.
package yamlsrc
