package main

import (
	"testing"
	"time"

	"github.com/spf13/viper"
	"github.com/stretchr/testify/require"
)

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
