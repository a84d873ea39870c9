package runtimes_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/runtimes"
)

// requirements.txt lines are read as pip reads them: comments and blank lines skipped, the
// distribution name before any extras, version, marker or space; options and URLs have none.
func TestParseRequirements(t *testing.T) {
	t.Parallel()
	got := runtimes.ParseRequirements("# top\n\nrequests>=2.0 # http\nPyYAML\njinja2[i18n]==3.1\n" +
		"six ; python_version < '3'\n-r other.txt\ngit+https://github.com/x/y.git#egg=y\nfoo#bar\n")
	require.Equal(t, []runtimes.Requirement{
		{Line: 3, Text: "requests>=2.0", Name: "requests"},
		{Line: 4, Text: "PyYAML", Name: "PyYAML"},
		{Line: 5, Text: "jinja2[i18n]==3.1", Name: "jinja2"},
		{Line: 6, Text: "six ; python_version < '3'", Name: "six"},
		{Line: 7, Text: "-r other.txt"},
		{Line: 8, Text: "git+https://github.com/x/y.git#egg=y"},
		{Line: 9, Text: "foo#bar"},
	}, got)
}

// PrepareVenv makes the pack's virtualenv once (the same directory again for the same
// requirements, another for changed ones) and lists what it lacks, with why; a requirement whose
// environment marker does not hold here is not listed.
func TestPrepareVenvListsMissing(t *testing.T) {
	t.Parallel()
	work := filepath.Join(t.TempDir(), "work")
	set := runtimes.New(runtimes.Config{WorkDir: work})
	ctx := context.Background()
	venv, err := set.PrepareVenv(ctx, "p", "pip\nattune-nosuch-dist==1\n-e .\nattune-old<1; python_version < '3.0'\n")
	require.NoError(t, err)
	require.Equal(t, filepath.Dir(venv.Dir), filepath.Join(work, "virtualenvs"))
	_, err = os.Stat(venv.Python)
	require.NoError(t, err)
	require.Equal(t, []runtimes.Requirement{
		{Line: 2, Text: "attune-nosuch-dist==1", Name: "attune-nosuch-dist", Reason: "no package index is configured (packs.pip_index_url), and the system's python does not have it"},
		{Line: 3, Text: "-e .", Reason: "attune reads only requirement lines (name and version), not options or URLs"},
	}, venv.Missing)

	again, err := set.PrepareVenv(ctx, "p", "pip\nattune-nosuch-dist==1\n-e .\nattune-old<1; python_version < '3.0'\n")
	require.NoError(t, err)
	require.Equal(t, venv, again)
	other, err := set.PrepareVenv(ctx, "p", "pip\n")
	require.NoError(t, err)
	require.NotEqual(t, venv.Dir, other.Dir)
	require.Empty(t, other.Missing)
}
