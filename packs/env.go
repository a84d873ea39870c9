package packs

import (
	"strings"

	"github.com/attune-run/attune/internal/yamlsrc"
)

// readEnv reads an action's env: a mapping of variable names to literal string values, added to
// its process's environment (see docs/security.md). Names are shell identifiers and must not
// start with ATTUNE_, which is attune's own context; values are strings without NUL bytes.
func readEnv(s scope) map[string]string {
	m, ok := s.mapping("env")
	if !ok || len(m.m) == 0 {
		return nil
	}
	env := map[string]string{}
	for _, name := range sortedKeys(m.m) {
		switch v := m.m[name].(type) {
		case string:
			switch {
			case !shellName.MatchString(name):
				m.errorf(name, "env name %q must be letters, digits and _, not starting with a digit", name)
			case strings.HasPrefix(strings.ToUpper(name), "ATTUNE_"):
				m.errorf(name, "env name %q starts with ATTUNE_, which attune keeps for its own context; choose another name", name)
			case strings.ContainsRune(v, 0):
				m.errorf(name, "env %s holds a NUL byte", name)
			default:
				env[name] = v
			}
		default:
			m.errorf(name, "env %s must be a string (quote it: %s: \"…\"), found %s", name, name, yamlsrc.Describe(v))
		}
	}
	return env
}
