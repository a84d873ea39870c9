package sensors_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
)

// Timers due at the same time fire in one transaction: the first of their fire jobs to run
// records the events of all of them (one xmin), advances each and inserts each one's next fire
// job; the others' own fire jobs, delivered after, find their work done. (On a fake clock.)
func TestTimersDueTogetherFireInOneTransaction(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	c := fakeClock(e)
	const n = 5
	rules := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("r%d", i)
		rules[name] = intervalRule(name, 1, "minutes")
	}
	registerPack(t, e, rules) // the clock stands still: every timer is due at the same time
	var own []fireJob
	for i := range n {
		tm := timerOf(t, e, fmt.Sprintf("tp.r%d", i))
		own = append(own, onePending(t, e, tm.ID))
	}

	deliver(t, e, c, own[0])

	require.Equal(t, n, count(t, e, `SELECT count(*) FROM attune.event WHERE rule_ref LIKE 'tp.%'`), "every due timer fired")
	require.Equal(t, 1, count(t, e, `SELECT count(DISTINCT xmin::text) FROM attune.event WHERE rule_ref LIKE 'tp.%'`),
		"in one transaction")
	require.Equal(t, n, count(t, e, `SELECT count(*) FROM river_job WHERE kind = $1`, jobs.KindTimerEvent),
		"one enforcement job per event")
	for i := range n {
		tm := timerOf(t, e, fmt.Sprintf("tp.r%d", i))
		require.Equal(t, int64(1), tm.FireCount)
		next := onePending(t, e, tm.ID)
		require.True(t, next.FireAt.Equal(own[i].FireAt.Add(time.Minute)), "timer %d's next tick", tm.ID)
	}

	for _, j := range own[1:] {
		deliver(t, e, c, j)
	}
	require.Equal(t, n, count(t, e, `SELECT count(*) FROM attune.event WHERE rule_ref LIKE 'tp.%'`), "the other fire jobs fired nothing")
}

// A tick recorded just before its rule is disabled is still enforced, once: its fire held the
// timer's lock and found it enabled, and disabling a rule takes that lock, so the rule was
// enabled at the tick. Before, the enforcement step read the rule disabled and made none, and the
// recorded tick ran nothing (the chaos suite's "every recorded tick enforced exactly once").
func TestTickOfRuleDisabledJustAfterIsEnforcedOnce(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	c := fakeClock(e)
	ctx := context.Background()
	registerPack(t, e, map[string]string{"every_second": intervalRule("every_second", 1, "seconds")})
	tm := timerOf(t, e, everySecond)
	deliver(t, e, c, onePending(t, e, tm.ID))
	evs := eventsForRule(t, e, everySecond)
	require.Len(t, evs, 1)

	_, err := e.Registry.SetRuleEnabled(ctx, everySecond, false)
	require.NoError(t, err)

	w := &jobs.TimerEventWorker{P: e.P}
	job := &river.Job[jobs.TimerEventArgs]{JobRow: &rivertype.JobRow{Attempt: 1}, Args: jobs.TimerEventArgs{EventID: evs[0].ID}}
	require.NoError(t, w.Work(ctx, job))
	require.NoError(t, w.Work(ctx, job), "redelivered")
	ls := linksForRule(t, e, everySecond)
	require.Len(t, ls, 1, "one enforcement, one execution")
	require.NotNil(t, ls[0].ExecutionID, "the tick was enforced")
	require.Equal(t, "core.noop", *ls[0].ActionRef)
}

// A fire job takes its round's connection before its time, one whose hot statements include
// the round's, so that the first tick neither waits for a connection nor prepares its statements.
func TestFireRoundConnectionIsWarmBeforeItsTime(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()

	conn, done := e.Timers.WarmConn(ctx)
	require.NotNil(t, conn, "a connection held for the next round")
	defer done()
	var prepared int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared_statements%' AND (
		statement LIKE '%FOR UPDATE OF t SKIP LOCKED%' OR statement LIKE '%expected_fire_at%'
		OR statement LIKE '%INSERT INTO attune.event%unnest%' OR statement LIKE '%fire_job_id = u.fire_job_id%')`).Scan(&prepared))
	require.Equal(t, 4, prepared, "the round's statements are prepared on it")
	again, doneAgain := e.Timers.WarmConn(ctx)
	doneAgain()
	require.Same(t, conn, again, "held until the round takes it, or the job that took it ends")
}
