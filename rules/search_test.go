package rules

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// searchPayload is StackStorm's own search example (st2common/operators.py), with more items.
var searchPayload = map[string]any{
	"fields": []any{
		map[string]any{"field_name": "Status", "to_value": "Approved"},
		map[string]any{"field_name": "Assignee", "to_value": "ada"},
	},
	"tags":  []any{"web-01", "web-02"},
	"empty": []any{},
	"host":  "web-01",
}

func TestSearch(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		criteria   string
		wantMatch  bool
		wantReason string
	}{
		{
			name: "any: StackStorm's example",
			criteria: `{"trigger.fields": {"type": "search", "condition": "any", "pattern": {
				"item.field_name": {"type": "equals", "pattern": "Status"},
				"item.to_value": {"type": "equals", "pattern": "Approved"}}}}`,
			wantMatch: true,
		},
		{
			name: "any: every nested criterion must hold for the same item",
			criteria: `{"trigger.fields": {"type": "search", "condition": "any", "pattern": {
				"item.field_name": {"type": "equals", "pattern": "Status"},
				"item.to_value": {"type": "equals", "pattern": "ada"}}}}`,
			wantReason: `trigger.fields: search any: none of 2 items matches; item 0: item.to_value: equals "ada": saw "Approved"`,
		},
		{
			name: "all: every item",
			criteria: `{"trigger.fields": {"type": "search", "condition": "all", "pattern": {
				"item.to_value": {"type": "exists"}}}}`,
			wantMatch: true,
		},
		{
			name: "all: the first failing item is reported",
			criteria: `{"trigger.fields": {"type": "search", "condition": "all", "pattern": {
				"item.field_name": {"type": "iequals", "pattern": "status"}}}}`,
			wantReason: `trigger.fields: search all: item 1 of 2 does not match: item.field_name: iequals "status": saw "Assignee"`,
		},
		{
			name:      "item alone is the item itself, for lists of scalars",
			criteria:  `{"trigger.tags": {"type": "search", "condition": "all", "pattern": {"item": {"type": "matchwildcard", "pattern": "web-*"}}}}`,
			wantMatch: true,
		},
		{
			name:      "nested fields without the item prefix",
			criteria:  `[{"field": "fields", "operator": "search", "condition": "any", "value": [{"field": "to_value", "operator": "eq", "value": "ada"}]}]`,
			wantMatch: true,
		},
		{
			name: "a missing nested field reads as null",
			criteria: `{"trigger.fields": {"type": "search", "condition": "any", "pattern": {
				"item.nope": {"type": "nexists"}}}}`,
			wantMatch: true,
		},
		{
			name: "search inside search",
			criteria: `{"trigger.groups": {"type": "search", "condition": "any", "pattern": {
				"item.members": {"type": "search", "condition": "any", "pattern": {"item": {"type": "eq", "pattern": "ada"}}}}}}`,
			wantReason: `trigger.groups: search any: missing`,
		},
		{
			name:      "all over an empty list holds, as Python's all([])",
			criteria:  `{"trigger.empty": {"type": "search", "condition": "all", "pattern": {"item": {"type": "eq", "pattern": 1}}}}`,
			wantMatch: true,
		},
		{
			name:       "any over an empty list fails",
			criteria:   `{"trigger.empty": {"type": "search", "condition": "any", "pattern": {"item": {"type": "eq", "pattern": 1}}}}`,
			wantReason: `trigger.empty: search any: the list is empty`,
		},
		{
			name:       "not a list",
			criteria:   `{"trigger.host": {"type": "search", "condition": "any", "pattern": {"item": {"type": "eq", "pattern": 1}}}}`,
			wantReason: `trigger.host: search any: saw "web-01", not a list`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			c, err := CompileCriteria(json.RawMessage(tt.criteria))
			require.NoError(t, err)
			out, err := c.Match(testEnv(searchPayload))
			require.NoError(t, err)
			require.Equal(t, Outcome{Matched: tt.wantMatch, Reason: tt.wantReason}, out)
		})
	}
}

// Nested search criteria are matched against the items of a list in a nested payload too.
func TestSearch_Nested(t *testing.T) {
	t.Parallel()

	c, err := CompileCriteria(json.RawMessage(`{"trigger.groups": {"type": "search", "condition": "any", "pattern": {
		"item.members": {"type": "search", "condition": "any", "pattern": {"item": {"type": "eq", "pattern": "ada"}}}}}}`))
	require.NoError(t, err)
	payload := map[string]any{"groups": []any{
		map[string]any{"members": []any{"bob"}},
		map[string]any{"members": []any{"eve", "ada"}},
	}}
	out, err := c.Match(testEnv(payload))
	require.NoError(t, err)
	require.True(t, out.Matched, out.Reason)
}

func TestSearch_CompileErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		criteria string
		wantErr  string
	}{
		{
			name:     "condition required",
			criteria: `{"trigger.f": {"type": "search", "pattern": {"item.x": {"type": "eq", "pattern": 1}}}}`,
			wantErr:  `criteria["trigger.f"].condition: required by operator "search": "any" (some item matches) or "all" (every item matches)`,
		},
		{
			name:     "condition any or all",
			criteria: `{"trigger.f": {"type": "search", "condition": "some", "pattern": {"item.x": {"type": "eq", "pattern": 1}}}}`,
			wantErr:  `criteria["trigger.f"].condition: must be "any" or "all"; got "\"some\""`,
		},
		{
			name:     "pattern required",
			criteria: `[{"field": "f", "operator": "search", "condition": "all"}]`,
			wantErr:  `criteria[0].value: required by operator "search"`,
		},
		{
			name:     "pattern must be criteria",
			criteria: `{"trigger.f": {"type": "search", "condition": "any", "pattern": "x"}}`,
			wantErr:  `criteria["trigger.f"].pattern: must be an object or a list of criteria for each item; got "\"x\""`,
		},
		{
			name:     "empty pattern",
			criteria: `{"trigger.f": {"type": "search", "condition": "any", "pattern": {}}}`,
			wantErr:  `criteria["trigger.f"].pattern: is empty; name at least one criterion`,
		},
		{
			name:     "nested errors name the nested criterion",
			criteria: `{"trigger.f": {"type": "search", "condition": "any", "pattern": {"item.x": {"type": "regex", "pattern": "("}}}}`,
			wantErr:  `criteria["trigger.f"].pattern["item.x"].pattern: invalid regular expression (Go RE2 syntax)`,
		},
		{
			name:     "nested unknown operator in the list form",
			criteria: `[{"field": "f", "operator": "search", "condition": "any", "value": [{"field": "item.x", "operator": "like", "value": 1}]}]`,
			wantErr:  `criteria[0].value[0].operator: unknown operator "like"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			c, err := CompileCriteria(json.RawMessage(tt.criteria))
			require.Nil(t, c)
			require.ErrorIs(t, err, attune.ErrInvalid)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
