package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/spf13/viper"
)

// extensionPrefix marks a config key attune ignores on purpose, with everything under it
// (x-notes:, x-team: {…}), for a site's own annotations or YAML anchors.
const extensionPrefix = "x-"

// freeFormKeys are config keys whose subtree is the user's own, not attune's: packs.config maps
// pack refs to each pack's config keys.
var freeFormKeys = []string{"packs.config"}

// nonConfigEnv are ATTUNE_* environment variables that are not configuration keys: the config
// file's name, pack config as JSON, and the context attune gives an action (an action may run
// attune itself). They are never reported as unknown.
var nonConfigEnv = []string{"ATTUNE_CONFIG", "ATTUNE_PACKS_CONFIG", "ATTUNE_EXECUTION_ID", "ATTUNE_ACTION",
	"ATTUNE_PACK", "ATTUNE_WORKER", "ATTUNE_PARAMETER_DELIVERY", "ATTUNE_PARAMETER_FORMAT", "ATTUNE_PARAMETER_FILE"}

// knownConfigKeys lists every configuration key as a dotted path (database.url): the leaves of
// Config's mapstructure tags, the free-form subtrees, and every key setDefaults gives a default,
// so a key added to either is known at once.
func knownConfigKeys() map[string]bool {
	known := map[string]bool{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == reflect.TypeFor[Config]().PkgPath() {
				walk(f.Type, prefix+name+".")
				continue
			}
			known[prefix+name] = true
		}
	}
	walk(reflect.TypeFor[Config](), "")
	for _, k := range freeFormKeys {
		known[k] = true
	}
	v := viper.New()
	setDefaults(v)
	for _, k := range v.AllKeys() {
		known[k] = true
	}
	return known
}

// checkConfigFileKeys reports every key of a YAML or JSON config file that attune does not know,
// each as file:line:col, with a "did you mean" when one known key is close. Keys under
// packs.config and keys starting with x- are not checked. Other file types are not checked.
func checkConfigFileKeys(file string) error {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".yaml", ".yml", ".json":
	default:
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read config %s: %w", file, err)
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			p := ye.GetToken().Position
			return fmt.Errorf("config %s:%d:%d: invalid YAML: %s", file, p.Line, p.Column, ye.GetMessage())
		}
		return fmt.Errorf("config %s: invalid YAML: %w", file, err)
	}
	known := knownConfigKeys()
	var problems []string
	var walk func(n ast.Node, prefix string)
	walk = func(n ast.Node, prefix string) {
		for _, kv := range mappingValues(n) {
			if _, merge := kv.Key.(*ast.MergeKeyNode); merge {
				walk(kv.Value, prefix)
				continue
			}
			name := strings.ToLower(configKeyString(kv.Key))
			key := prefix + name
			switch {
			case strings.HasPrefix(name, extensionPrefix), slices.Contains(freeFormKeys, key):
			case known[key]:
			case hasKnownChild(known, key):
				walk(kv.Value, key+".")
			default:
				p := kv.Key.GetToken().Position
				msg := fmt.Sprintf("%s:%d:%d: unknown key %s", file, p.Line, p.Column, key)
				if near := closestKey(key, siblingKeys(known, prefix)); near != "" {
					msg += fmt.Sprintf("; did you mean `%s`?", near)
				}
				problems = append(problems, msg)
			}
		}
	}
	for _, doc := range f.Docs {
		walk(doc.Body, "")
	}
	if len(problems) > 0 {
		return fmt.Errorf("config %s has unknown keys (fix or remove them; keys starting with %s are ignored on purpose; `attune config` prints every key):\n  %s",
			file, extensionPrefix, strings.Join(problems, "\n  "))
	}
	return nil
}

// mappingValues returns the key/value pairs of the mapping n, looking through anchors and tags;
// nil when n is not a mapping.
func mappingValues(n ast.Node) []*ast.MappingValueNode {
	switch n := n.(type) {
	case *ast.AnchorNode:
		return mappingValues(n.Value)
	case *ast.TagNode:
		return mappingValues(n.Value)
	case *ast.MappingNode:
		return n.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}
	}
	return nil
}

// configKeyString is a mapping key as text.
func configKeyString(k ast.MapKeyNode) string {
	if s, ok := k.(ast.ScalarNode); ok {
		return fmt.Sprint(s.GetValue())
	}
	return k.String()
}

// hasKnownChild reports whether some known key lies under prefix.
func hasKnownChild(known map[string]bool, prefix string) bool {
	for k := range known {
		if strings.HasPrefix(k, prefix+".") {
			return true
		}
	}
	return false
}

// siblingKeys returns the known keys and sections (database, database.url) directly under
// prefix ("" for the top level, else ending in a dot).
func siblingKeys(known map[string]bool, prefix string) map[string]bool {
	out := map[string]bool{}
	for k := range known {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			head, _, _ := strings.Cut(rest, ".")
			out[prefix+head] = true
		}
	}
	return out
}

// unknownConfigEnv returns a warning for every ATTUNE_* environment variable that names no
// configuration key. They are warnings, not errors: the environment is shared with other
// programs and with actions, and one stray variable should not stop a replica.
func unknownConfigEnv(environ []string) []string {
	known := knownConfigKeys()
	envNames := map[string]string{} // ATTUNE_DATABASE_URL -> database.url
	for k := range known {
		envNames["ATTUNE_"+strings.ToUpper(strings.ReplaceAll(k, ".", "_"))] = k
	}
	var warnings []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "ATTUNE_") || slices.Contains(nonConfigEnv, name) ||
			strings.HasPrefix(name, "ATTUNE_TEST_") || envNames[name] != "" {
			continue
		}
		msg := fmt.Sprintf("environment variable %s names no configuration key and is ignored", name)
		names := map[string]bool{}
		for n := range envNames {
			names[n] = true
		}
		if near := closestKey(name, names); near != "" {
			msg += fmt.Sprintf("; did you mean %s?", near)
		}
		warnings = append(warnings, msg)
	}
	slices.Sort(warnings)
	return warnings
}

// closestKey returns the one key of known within a small edit distance of key (a typo), or ""
// when none or several are that close.
func closestKey(key string, known map[string]bool) string {
	limit := max(1, min(3, len(key)/4))
	best, bestD, ties := "", limit+1, 0
	for k := range known {
		d := editDistance(key, k)
		switch {
		case d < bestD:
			best, bestD, ties = k, d, 0
		case d == bestD:
			ties++
		}
	}
	if bestD > limit || ties > 0 {
		return ""
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (optimal string alignment) of a and b, so a
// swap of two neighbouring letters (databse) counts as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
