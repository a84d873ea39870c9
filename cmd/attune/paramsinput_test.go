package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseParamsRefusesAKeyGivenTwice(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"key=a", "key=b"}, {"key=a", "key:=1"}, {"x=1", "key:=1", "key=@@b"}} {
		_, err := parseParams(args)
		require.ErrorContains(t, err, "parameter key is given twice", "%v", args)
		for _, a := range args {
			_, v, _ := strings.Cut(a, "=")
			require.NotContains(t, err.Error(), `"`+v, "values are not echoed: they may be secrets")
		}
	}
}

func TestParseParamsFromFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := filepath.Join(dir, "password.txt")
	require.NoError(t, os.WriteFile(text, []byte("hunter2\n"), 0o600))
	doc := filepath.Join(dir, "tags.json")
	require.NoError(t, os.WriteFile(doc, []byte(`["a", "b"]`), 0o600))

	p, err := parseParams([]string{"password=@" + text, "tags:=@" + doc, "handle=@@bob", "mail=a@b"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"password": "hunter2", "tags": []any{"a", "b"}, "handle": "@bob", "mail": "a@b"}, p)

	_, err = parseParams([]string{"password=@" + filepath.Join(dir, "missing")})
	require.ErrorContains(t, err, "parameter password: read open")
	require.ErrorContains(t, err, "write @@ for a literal @")
	_, err = parseParams([]string{"tags:=@" + text})
	require.ErrorContains(t, err, "parameter tags: file "+text+" does not hold JSON")
	require.NotContains(t, err.Error(), "hunter2")
}

func TestReadParamsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{"p.yaml": "message: hi\ncount: 3\n", "p.json": `{"message": "hi", "count": 3}`} {
		f := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(f, []byte(content), 0o600))
		stdin := false
		p, err := readParamsFile(f, &stdin)
		require.NoError(t, err, name)
		require.Equal(t, map[string]any{"message": "hi", "count": float64(3)}, p, name)
	}
	f := filepath.Join(dir, "list.yaml")
	require.NoError(t, os.WriteFile(f, []byte("- a\n- b\n"), 0o600))
	stdin := false
	_, err := readParamsFile(f, &stdin)
	require.ErrorContains(t, err, "must hold an object of parameters")

	p, err := runParams(filepath.Join(dir, "p.yaml"), []string{"message=over"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"message": "over", "count": float64(3)}, p, "arguments override the file")
}
