package jobs_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/runtimes"
)

// jobs.New refuses each bad input with an error naming the field, and builds a ready pipeline
// from a good one.
func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	client, err := river.NewClient(riverpgxv5.New(nil), &river.Config{Schema: db.RiverSchema})
	require.NoError(t, err)
	good := func() jobs.Config {
		return jobs.Config{DB: &db.DB{}, River: client, Runtimes: runtimes.New(runtimes.Config{}), Worker: "w1",
			RescueAfter: 10 * time.Minute, KillGrace: 5 * time.Second}
	}
	p, err := jobs.New(good())
	require.NoError(t, err)
	require.Equal(t, "w1", p.Worker)
	require.NotNil(t, p.Log, "a nil logger discards")
	require.Equal(t, 10*time.Minute-10*time.Second, p.JobTimeout())

	for _, tc := range []struct {
		name string
		edit func(*jobs.Config)
		want string
	}{
		{"nil DB", func(c *jobs.Config) { c.DB = nil }, "jobs.Config.DB: is nil"},
		{"nil River", func(c *jobs.Config) { c.River = nil }, "jobs.Config.River: is nil"},
		{"nil Runtimes", func(c *jobs.Config) { c.Runtimes = nil }, "jobs.Config.Runtimes: is nil"},
		{"no worker name", func(c *jobs.Config) { c.Worker = "" }, "jobs.Config.Worker: is empty"},
		{"negative rescue window", func(c *jobs.Config) { c.RescueAfter = -time.Second }, "jobs.Config.RescueAfter: must not be negative, got -1s"},
		{"negative kill grace", func(c *jobs.Config) { c.KillGrace = -time.Second }, "jobs.Config.KillGrace: must not be negative, got -1s"},
		{"negative output cap", func(c *jobs.Config) { c.OutputCap = -1 }, "jobs.Config.OutputCap: must not be negative, got -1"},
		{"negative task runs", func(c *jobs.Config) { c.MaxTaskRuns = -1 }, "jobs.Config.MaxTaskRuns: must not be negative, got -1"},
		{"rescue window too small for the kill grace", func(c *jobs.Config) { c.RescueAfter = 20 * time.Second },
			"jobs.Config.RescueAfter: 20s leaves no room for an action: it must hold an action's timeout plus the kill grace (5s) plus 20s; raise it to at least 26s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := good()
			tc.edit(&cfg)
			p, err := jobs.New(cfg)
			require.Nil(t, p)
			require.ErrorContains(t, err, tc.want)
		})
	}

	_, err = jobs.New(jobs.Config{})
	require.Error(t, err)
	for _, field := range []string{"DB", "River", "Runtimes", "Worker"} {
		require.ErrorContains(t, err, "jobs.Config."+field+":", "every field error at once")
	}
}
