package engine

import (
	"testing"
	"time"

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
		{"River's default poll: 20 ms", 0, 0, 20 * ms},
		{"a shorter configured poll wins", 2 * ms, 10 * ms, 10 * ms},
		{"never below the cooldown River requires", 50 * ms, 200 * ms, 50 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := timersQueue(Config{FetchCooldown: tt.cooldown, FetchPollInterval: tt.poll}.withDefaults())
			require.Equal(t, tt.want, q.FetchPollInterval)
			require.Equal(t, 100, q.MaxWorkers)
		})
	}
}
