package main

import (
	"testing"
	"time"

	"github.com/spf13/viper"
	"github.com/stretchr/testify/require"
)

func TestTimersQueuePollsOftenEnoughForPrecision(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name           string
		cooldown, poll time.Duration
		want           time.Duration
	}{
		{"defaults: 20 ms", 2 * ms, 200 * ms, 20 * ms},
		{"a shorter configured poll wins", 2 * ms, 10 * ms, 10 * ms},
		{"never below the cooldown River requires", 50 * ms, 200 * ms, 50 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := timersQueue(RiverConfig{FetchCooldown: tt.cooldown, FetchPollInterval: tt.poll})
			require.Equal(t, tt.want, q.FetchPollInterval)
			require.Equal(t, 100, q.MaxWorkers)
		})
	}
}

func TestPlanCacheMode(t *testing.T) {
	t.Chdir(t.TempDir()) // no config.development.yaml here
	cfg, err := loadConfig(viper.New(), "")
	require.NoError(t, err)
	require.Equal(t, "force_generic_plan", cfg.Database.PlanCacheMode)
	require.Equal(t, "force_generic_plan", cfg.planCacheMode())
	require.Equal(t, 2*time.Millisecond, cfg.River.FetchCooldown)

	cfg.Database.PlanCacheMode = "auto"
	require.NoError(t, cfg.Validate())
	require.Empty(t, cfg.planCacheMode(), "auto leaves the server's setting")

	cfg.Database.PlanCacheMode = "generic"
	require.ErrorContains(t, cfg.Validate(), "database.plan_cache_mode: must be auto, force_generic_plan or force_custom_plan")
}
