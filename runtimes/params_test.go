package runtimes

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

func TestEncodeParams(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		format  string
		params  map[string]any
		want    string
		wantErr string
	}{
		{"JSONDefault", "", map[string]any{"b": "x<&>", "a": []any{1, "two\nlines"}},
			`{"a":[1,"two\nlines"],"b":"x<&>"}` + "\n", ""},
		{"JSONNil", ParamFormatJSON, nil, "{}\n", ""},
		{"JSONUnencodable", ParamFormatJSON, map[string]any{"x": math.NaN()},
			"", "parameters cannot be delivered as json: json: unsupported value: NaN"},
		{"DotenvSortedAndTyped", ParamFormatDotenv, map[string]any{
			"str": "hello", "num": 2.5, "int": 3, "yes": true, "none": nil,
			"obj": map[string]any{"k": "v", "n": []any{1, nil}}, "arr": []any{"a", 1},
		}, "arr='[\"a\",1]'\nint='3'\nnone=''\nnum='2.5'\nobj='{\"k\":\"v\",\"n\":[1,null]}'\nstr='hello'\nyes='true'\n", ""},
		{"DotenvQuotes", ParamFormatDotenv, map[string]any{"q": "it's", "o": map[string]any{"q": "a'b"}},
			`o='{"q":"a'\''b"}'` + "\n" + `q='it'\''s'` + "\n", ""},
		{"DotenvShellMetacharactersStayLiteral", ParamFormatDotenv, map[string]any{"v": "$HOME `id` \\ \"\nnext"},
			"v='$HOME `id` \\ \"\nnext'\n", ""},
		{"DotenvEmpty", ParamFormatDotenv, map[string]any{}, "", ""},
		{"DotenvBadKey", ParamFormatDotenv, map[string]any{"a-b": 1, "ok": 2}, "",
			`parameter "a-b" cannot be delivered as dotenv: the name is not a shell identifier ([A-Za-z_][A-Za-z0-9_]*); rename it or use the json format`},
		{"DotenvKeyStartsWithDigit", ParamFormatDotenv, map[string]any{"1x": 1}, "",
			`parameter "1x" cannot be delivered as dotenv: the name is not a shell identifier ([A-Za-z_][A-Za-z0-9_]*); rename it or use the json format`},
		{"DotenvNUL", ParamFormatDotenv, map[string]any{"x": "a\x00b"}, "",
			`parameter "x" cannot be delivered as dotenv: the value contains a NUL byte, which a shell variable cannot hold; use the json format`},
		{"YAMLSortedAndTyped", ParamFormatYAML, map[string]any{
			"s": "5", "n": 5, "t": "true", "b": true, "none": nil, "multi": "a\nb\n",
			"list": []any{"x", 1}, "obj": map[string]any{"k": "it's"},
		}, "b: true\nlist:\n    - x\n    - 1\nmulti: |\n    a\n    b\n\"n\": 5\nnone: null\nobj:\n    k: it's\ns: \"5\"\nt: \"true\"\n", ""},
		{"YAMLNil", ParamFormatYAML, nil, "{}\n", ""},
		{"UnknownFormat", "xml", map[string]any{}, "",
			`parameter format "xml" is not supported; use "json", "dotenv" or "yaml"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := encodeParams(tt.format, tt.params)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
}

// TestRunDotenvEvaluatesInSh checks that sh's eval "$(cat)" gives back every value exactly.
func TestRunDotenvEvaluatesInSh(t *testing.T) {
	t.Parallel()
	b := setup(t)
	params := map[string]any{
		"quote":     `it's "quoted" ''`,
		"dollar":    "$HOME $(touch pwned) `touch pwned` ${x:-y} \\ \\n",
		"multiline": "line 1\nline 2\n\n",
		"glob":      "* ?",
		"unicode":   "héllo ✓",
		"obj":       map[string]any{"a": []any{1, "x'y"}, "h": "<&>"},
		"nothing":   nil,
		"flag":      false,
		"num":       1e21,
		"_under9":   "",
	}
	want := map[string]string{
		"quote":     `it's "quoted" ''`,
		"dollar":    "$HOME $(touch pwned) `touch pwned` ${x:-y} \\ \\n",
		"multiline": "line 1\nline 2\n\n",
		"glob":      "* ?",
		"unicode":   "héllo ✓",
		"obj":       `{"a":[1,"x'y"],"h":"<&>"}`,
		"nothing":   "",
		"flag":      "false",
		"num":       "1e+21",
		"_under9":   "",
	}
	script := "cd \"$ATTUNE_TEST_DIR\"\neval \"$(cat)\"\n"
	for k := range want {
		script += `printf '%s' "$` + k + `" > ` + k + "\n"
	}
	req := b.request(script)
	req.ParameterFormat = ParamFormatDotenv
	req.Parameters = params

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusCompleted, res.Status, res.Stderr)
	for k, v := range want {
		got, err := os.ReadFile(filepath.Join(b.dir, k))
		require.NoError(t, err, k)
		require.Equal(t, v, string(got), k)
	}
	require.NoFileExists(t, filepath.Join(b.dir, "pwned"))
}

func TestRunDotenvBadKeyFailsBeforeStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := b.request(`touch "$ATTUNE_TEST_DIR/ran"`)
	req.ParameterFormat = ParamFormatDotenv
	req.Parameters = map[string]any{"a-b": "x"}

	res, err := b.set.Run(context.Background(), req)

	require.NoError(t, err, "a parameter the action cannot take fails the run, not the worker")
	require.Equal(t, attune.StatusFailed, res.Status)
	require.Equal(t, -1, res.ExitCode)
	require.Equal(t, `parameter "a-b" cannot be delivered as dotenv: the name is not a shell identifier ([A-Za-z_][A-Za-z0-9_]*); rename it or use the json format`,
		res.Error)
	require.NoFileExists(t, filepath.Join(b.dir, "ran"))
}

func TestRunDeliversJSONOnStdin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := b.request("cat")
	req.Parameters = map[string]any{"msg": "hi", "n": 1}

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
	require.Equal(t, `{"msg":"hi","n":1}`+"\n", res.Stdout)
}

func TestRunLargeParametersNotRead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := b.request("echo ignored my stdin")
	req.Parameters = map[string]any{"big": strings.Repeat("x", 1<<20)}

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
	require.Equal(t, "ignored my stdin\n", res.Stdout)
}
