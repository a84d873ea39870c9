package rules

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every operator spelling issue 4 lists, plus StackStorm's td_lt, td_gt and matchregex,
// compiles in the map and the list form; each alias behaves as its canonical name.
func TestOperatorSpellings(t *testing.T) {
	t.Parallel()

	spellings := [][]string{
		{"equals", "eq"}, {"nequals", "neq"}, {"iequals"}, {"lessthan", "lt"}, {"greaterthan", "gt"},
		{"contains"}, {"ncontains"}, {"icontains"}, {"incontains"}, {"startswith"}, {"istartswith"},
		{"endswith"}, {"iendswith"}, {"matchwildcard"}, {"regex"}, {"iregex"}, {"matchregex"},
		{"timediff_lt", "td_lt"}, {"timediff_gt", "td_gt"}, {"exists"}, {"nexists"},
		{"inside", "in"}, {"ninside", "nin"}, {"search"},
	}
	value := map[string]string{
		"lessthan": `5`, "greaterthan": `5`, "timediff_lt": `60`, "timediff_gt": `60`,
		"inside": `["a"]`, "ninside": `["a"]`, "exists": `true`, "nexists": `true`,
	}
	for _, names := range spellings {
		canonical := operators[names[0]]
		require.NotNil(t, canonical, "operator %s", names[0])
		for _, name := range names {
			t.Run(name, func(t *testing.T) {
				t.Parallel()

				require.Same(t, canonical, operators[name], "%s is an alias of %s", name, names[0])
				v := value[names[0]]
				if v == "" {
					v = `"a"`
				}
				extra := ""
				if name == "search" {
					v, extra = `{"item.x": {"type": "eq", "pattern": 1}}`, `, "condition": "any"`
				}
				mapForm := fmt.Sprintf(`{"trigger.f": {"type": %q, "pattern": %s%s}}`, name, v, extra)
				_, err := CompileCriteria(json.RawMessage(mapForm))
				require.NoError(t, err, mapForm)
				listForm := fmt.Sprintf(`[{"field": "f", "operator": %q, "value": %s%s}]`, name, v, extra)
				_, err = CompileCriteria(json.RawMessage(listForm))
				require.NoError(t, err, listForm)
			})
		}
	}
}
