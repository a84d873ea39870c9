package sensors_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/internal/pgtest"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/packs"
	"github.com/attune-run/attune/sensors"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The rule refs of the test pack "tp".
const (
	everySecond = "tp.every_second"
	everyMinute = "tp.every_minute"
)

// intervalRule is a rule file running core.noop every interval unit, with the tick's scheduled
// time as the action's message.
func intervalRule(name string, interval int, unit string) string {
	return fmt.Sprintf(`ref: %s
trigger_ref: core.intervaltimer
trigger_params: {interval: %d, unit: %s}
action_ref: core.noop
action_params:
  message: "{{ event.payload.scheduled_at }}"
`, name, interval, unit)
}

// cronRule is a rule file running core.noop on a cron expression.
func cronRule(name, expression string) string {
	return fmt.Sprintf("ref: %s\ntrigger_ref: core.crontimer\ntrigger_params: {expression: %q}\naction_ref: core.noop\n",
		name, expression)
}

// datetimeRule is a rule file running core.noop once, at fireAt.
func datetimeRule(name string, fireAt time.Time) string {
	return fmt.Sprintf("ref: %s\ntrigger_ref: core.datetimetimer\ntrigger_params: {fire_at: %q}\naction_ref: core.noop\n",
		name, fireAt.UTC().Format(time.RFC3339Nano))
}

// registerPack loads the pack "tp" with rules (file name without .yaml -> content) from disk and
// registers it with its timers, as `attune pack register` does.
func registerPack(t *testing.T, e *attunetest.Env, rules map[string]string) {
	t.Helper()
	files := map[string]string{"pack.yaml": "ref: tp\nversion: 1.0.0\n"}
	for name, content := range rules {
		files["rules/"+name+".yaml"] = content
	}
	p, err := packs.LoadDir(attunetest.WritePack(t, files), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(context.Background(), p)
	require.NoError(t, err)
}

// startRiver starts the River client of an env built with NoStart.
func startRiver(t *testing.T, e *attunetest.Env) {
	t.Helper()
	require.NoError(t, e.River.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.River.Stop(ctx)
	})
}

// timerOf returns the timer of a rule.
func timerOf(t *testing.T, e *attunetest.Env, ruleRef string) attune.Timer {
	t.Helper()
	var tm attune.Timer
	err := e.DB.Pool.QueryRow(context.Background(), `
		SELECT t.id, t.rule_id, t.enabled, t.next_fire_at, t.fire_job_id, t.fire_count
		FROM attune.timer t JOIN attune.rule r ON r.id = t.rule_id WHERE r.ref = $1`, ruleRef).
		Scan(&tm.ID, &tm.RuleID, &tm.Enabled, &tm.NextFireAt, &tm.FireJobID, &tm.FireCount)
	require.NoError(t, err, "timer of rule %s", ruleRef)
	return tm
}

// count runs a counting query.
func count(t *testing.T, e *attunetest.Env, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// timerEvent is an event written by a timer fire.
type timerEvent struct {
	ID          int64
	RuleID      *int64
	TimerID     *int64
	ScheduledAt time.Time // the column
	Payload     map[string]any
}

// payloadTime reads an RFC 3339 time from the payload.
func (ev timerEvent) payloadTime(t *testing.T, key string) time.Time {
	t.Helper()
	s, ok := ev.Payload[key].(string)
	require.True(t, ok, "payload %s of event %d: %v", key, ev.ID, ev.Payload[key])
	at, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return at
}

// eventsForRule lists the events of a rule, by rule ref (it outlives the rule), oldest tick first.
func eventsForRule(t *testing.T, e *attunetest.Env, ruleRef string) []timerEvent {
	t.Helper()
	rows, err := e.DB.Pool.Query(context.Background(), `
		SELECT id, rule_id, timer_id, scheduled_at, payload FROM attune.event
		WHERE rule_ref = $1 ORDER BY scheduled_at, id`, ruleRef)
	require.NoError(t, err)
	defer rows.Close()
	var evs []timerEvent
	for rows.Next() {
		var ev timerEvent
		require.NoError(t, rows.Scan(&ev.ID, &ev.RuleID, &ev.TimerID, &ev.ScheduledAt, &ev.Payload))
		evs = append(evs, ev)
	}
	require.NoError(t, rows.Err())
	return evs
}

// fireJob is an attune.timer.fire job in river_job.
type fireJob struct {
	ID          int64
	State       string
	ScheduledAt time.Time // when River may run it
	FireAt      time.Time // the tick it fires
}

// fireJobs lists the fire jobs of a timer in any state, oldest first.
func fireJobs(t *testing.T, e *attunetest.Env, timerID int64) []fireJob {
	t.Helper()
	rows, err := e.DB.Pool.Query(context.Background(), `
		SELECT id, state::text, scheduled_at, args->>'fire_at' FROM river_job
		WHERE kind = $1 AND (args->>'timer_id')::bigint = $2 ORDER BY id`, jobs.KindTimerFire, timerID)
	require.NoError(t, err)
	defer rows.Close()
	var js []fireJob
	for rows.Next() {
		var j fireJob
		var fireAt string
		require.NoError(t, rows.Scan(&j.ID, &j.State, &j.ScheduledAt, &fireAt))
		j.FireAt, err = time.Parse(time.RFC3339Nano, fireAt)
		require.NoError(t, err)
		js = append(js, j)
	}
	require.NoError(t, rows.Err())
	return js
}

// pendingFireJobs lists the fire jobs of a timer still to run: unfinished, and for the timer's
// next fire time or a later one when it has one. A job whose tick has just fired is still
// running until River's batched completer finishes it, and is not pending any more; two jobs for
// the next tick are.
func pendingFireJobs(t *testing.T, e *attunetest.Env, timerID int64) []fireJob {
	t.Helper()
	_, ids := fireJobSnapshot(t, e, timerID)
	var pending []fireJob
	for _, j := range fireJobs(t, e, timerID) {
		if slices.Contains(ids, j.ID) {
			pending = append(pending, j)
		}
	}
	return pending
}

// fireJobByID returns one fire job.
func fireJobByID(t *testing.T, e *attunetest.Env, timerID, id int64) fireJob {
	t.Helper()
	for _, j := range fireJobs(t, e, timerID) {
		if j.ID == id {
			return j
		}
	}
	t.Fatalf("fire job %d of timer %d not found", id, timerID)
	return fireJob{}
}

// fireJobSnapshot reads, in one statement and so one snapshot, the fire job a timer records and
// the ids of its fire jobs still to run (see pendingFireJobs).
func fireJobSnapshot(t *testing.T, e *attunetest.Env, timerID int64) (recorded *int64, pending []int64) {
	t.Helper()
	err := e.DB.Pool.QueryRow(context.Background(), `
		SELECT (SELECT fire_job_id FROM attune.timer WHERE id = $1),
		       coalesce((SELECT array_agg(j.id ORDER BY j.id) FROM river_job j
		           LEFT JOIN attune.timer t ON t.id = $1
		           WHERE j.kind = $2 AND (j.args->>'timer_id')::bigint = $1
		             AND j.state NOT IN ('completed', 'cancelled', 'discarded')
		             AND (t.next_fire_at IS NULL OR (j.args->>'fire_at')::timestamptz >= t.next_fire_at)), '{}')`,
		timerID, jobs.KindTimerFire).Scan(&recorded, &pending)
	require.NoError(t, err)
	return recorded, pending
}

// waitQuiet waits until the timer's one pending fire job is for a tick at least 300 ms away, so
// that a change made now cannot race a fire in flight, and returns that job. The job may be
// running already: it waits for its tick in the worker.
func waitQuiet(t *testing.T, e *attunetest.Env, timerID int64) fireJob {
	t.Helper()
	var j fireJob
	require.Eventually(t, func() bool {
		pending := pendingFireJobs(t, e, timerID)
		if len(pending) != 1 {
			return false
		}
		j = pending[0]
		return time.Until(j.FireAt) > 300*time.Millisecond
	}, 5*time.Second, 10*time.Millisecond, "timer %d never had a quiet moment", timerID)
	return j
}

// requireCancelled waits for a fire job to end cancelled: at once when it was waiting in River,
// when its worker stops waiting for its tick when it was running.
func requireCancelled(t *testing.T, e *attunetest.Env, timerID, jobID int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		return fireJobByID(t, e, timerID, jobID).State == "cancelled" && len(pendingFireJobs(t, e, timerID)) == 0
	}, 2*time.Second, 10*time.Millisecond, "fire job %d of timer %d cancelled", jobID, timerID)
}

// clock is a fake clock for the timers: the tests that would sleep for real seconds set it to
// a fire time and deliver the fire job by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// fakeClock gives an env built with NoStart a fake clock, set to now (to the microsecond, as
// Postgres keeps it), and returns it.
func fakeClock(e *attunetest.Env) *clock {
	c := &clock{now: time.Now().Truncate(time.Microsecond)}
	e.Timers.Now = c.Now
	e.P.Now = c.Now
	return c
}

// Now is the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to at.
func (c *clock) Set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = at
}

// deliver runs a fire job as River would at the clock's time (its tick when that is later):
// its worker's Work, then the completion River's completer writes after a successful run.
func deliver(t *testing.T, e *attunetest.Env, c *clock, j fireJob) {
	t.Helper()
	if c.Now().Before(j.FireAt) {
		c.Set(j.FireAt)
	}
	ctx := context.Background()
	w := &sensors.FireWorker{T: e.Timers}
	err := w.Work(ctx, &river.Job[jobs.TimerFireArgs]{
		JobRow: &rivertype.JobRow{ID: j.ID, Kind: jobs.KindTimerFire, Attempt: 1},
		Args:   jobs.TimerFireArgs{TimerID: timerIDOfJob(t, e, j.ID), FireAt: j.FireAt},
	})
	require.NoError(t, err, "fire job %d", j.ID)
	_, err = e.DB.Pool.Exec(ctx, `UPDATE river_job SET state = 'completed', finalized_at = now()
		WHERE id = $1 AND state NOT IN ('completed', 'cancelled', 'discarded')`, j.ID)
	require.NoError(t, err)
}

// timerIDOfJob reads the timer id of a fire job.
func timerIDOfJob(t *testing.T, e *attunetest.Env, jobID int64) int64 {
	t.Helper()
	return int64(count(t, e, `SELECT (args->>'timer_id')::bigint FROM river_job WHERE id = $1`, jobID))
}

// onePending returns the one pending fire job of a timer.
func onePending(t *testing.T, e *attunetest.Env, timerID int64) fireJob {
	t.Helper()
	pending := pendingFireJobs(t, e, timerID)
	require.Len(t, pending, 1, "pending fire jobs of timer %d", timerID)
	return pending[0]
}

// link is an event of a rule joined with its enforcements and their executions.
type link struct {
	EventID, EventRuleID   int64
	EventScheduledAt       string // the payload's
	EnforcementID          *int64
	EnforcementRuleID      *int64
	ExecutionID            *int64
	ExecutionStatus        *string
	ActionRef, Message     *string
	ExecutionEnforcementID *int64
}

// linksForRule follows execution.enforcement_id -> enforcement.event_id -> event.rule_id back
// from every event of a rule, oldest tick first; an event with two enforcements or executions
// appears twice.
func linksForRule(t *testing.T, e *attunetest.Env, ruleRef string) []link {
	t.Helper()
	rows, err := e.DB.Pool.Query(context.Background(), `
		SELECT ev.id, ev.rule_id, ev.payload->>'scheduled_at', n.id, n.rule_id, x.id, x.status,
		       x.action_ref, x.parameters->>'message', x.enforcement_id
		FROM attune.event ev
		JOIN attune.rule r ON r.id = ev.rule_id AND r.ref = $1
		LEFT JOIN attune.enforcement n ON n.event_id = ev.id
		LEFT JOIN attune.execution x ON x.enforcement_id = n.id
		ORDER BY ev.scheduled_at, n.id, x.id`, ruleRef)
	require.NoError(t, err)
	defer rows.Close()
	var ls []link
	for rows.Next() {
		var l link
		require.NoError(t, rows.Scan(&l.EventID, &l.EventRuleID, &l.EventScheduledAt, &l.EnforcementID,
			&l.EnforcementRuleID, &l.ExecutionID, &l.ExecutionStatus, &l.ActionRef, &l.Message, &l.ExecutionEnforcementID))
		ls = append(ls, l)
	}
	require.NoError(t, rows.Err())
	return ls
}

// A 1-second interval rule fires every second on the grid set when it was registered, without
// drift or missed ticks, and every tick goes all the way: one event targeted at the rule, one
// enforcement, one completed execution whose parameters were rendered from the tick.
func TestIntervalTimerEndToEnd(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)

	registeredFrom := time.Now()
	registerPack(t, e, map[string]string{"every_second": intervalRule("every_second", 1, "seconds")})
	registeredTo := time.Now()
	tm := timerOf(t, e, everySecond)

	var ls []link
	require.Eventually(t, func() bool {
		ls = linksForRule(t, e, everySecond)
		done := 0
		for _, l := range ls {
			if l.ExecutionStatus != nil && *l.ExecutionStatus == string(attune.StatusCompleted) {
				done++
			}
		}
		return done >= 3
	}, 6*time.Second, 20*time.Millisecond, "3 ticks with completed executions")

	seen := map[int64]bool{}
	for i, l := range ls {
		require.False(t, seen[l.EventID], "event %d has more than one enforcement or execution", l.EventID)
		seen[l.EventID] = true
		require.Equal(t, tm.RuleID, l.EventRuleID)
		require.NotNil(t, l.EnforcementID, "event %d has no enforcement", l.EventID)
		require.Equal(t, tm.RuleID, *l.EnforcementRuleID)
		require.NotNil(t, l.ExecutionID, "enforcement %d has no execution", *l.EnforcementID)
		require.Equal(t, *l.EnforcementID, *l.ExecutionEnforcementID)
		require.Equal(t, "core.noop", *l.ActionRef)
		require.Equal(t, l.EventScheduledAt, *l.Message, "action_params rendered from the tick")
		if i < 3 {
			require.Equal(t, string(attune.StatusCompleted), *l.ExecutionStatus)
		}
	}

	evs := eventsForRule(t, e, everySecond)
	require.GreaterOrEqual(t, len(evs), 3)
	first := evs[0].ScheduledAt
	require.False(t, first.Before(registeredFrom.Add(time.Second).Truncate(time.Microsecond)), "first tick one interval after registration")
	require.False(t, first.After(registeredTo.Add(time.Second)), "first tick one interval after registration")
	for i, ev := range evs {
		require.Equal(t, tm.RuleID, *ev.RuleID)
		require.Equal(t, tm.ID, *ev.TimerID)
		require.True(t, ev.ScheduledAt.Equal(first.Add(time.Duration(i)*time.Second)),
			"tick %d scheduled at %s, want %s: no drift", i, ev.ScheduledAt, first.Add(time.Duration(i)*time.Second))
		require.True(t, ev.payloadTime(t, "scheduled_at").Equal(ev.ScheduledAt), "payload and column agree")
		require.False(t, ev.payloadTime(t, "fired_at").Before(ev.ScheduledAt), "never fired early")
		require.Equal(t, float64(0), ev.Payload["missed"], "nothing missed while running")
		require.Equal(t, float64(i+1), ev.Payload["count"])
		require.Equal(t, "interval", ev.Payload["type"])
	}
	require.Zero(t, count(t, e, `SELECT count(*) FROM (SELECT 1 FROM attune.event WHERE timer_id = $1
		GROUP BY timer_id, scheduled_at HAVING count(*) > 1) d`, tm.ID), "one event per (timer, scheduled time)")
}

// However often it is looked at, a running timer has exactly one pending fire job, and it is the
// one the timer records.
func TestTimerHasExactlyOnePendingFireJob(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerPack(t, e, map[string]string{"every_second": intervalRule("every_second", 1, "seconds")})
	tm := timerOf(t, e, everySecond)

	jobIDs := map[int64]bool{}
	for deadline := time.Now().Add(3200 * time.Millisecond); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		recorded, pending := fireJobSnapshot(t, e, tm.ID)
		require.Len(t, pending, 1, "pending fire jobs of timer %d", tm.ID)
		require.NotNil(t, recorded)
		require.Equal(t, *recorded, pending[0], "the pending job is attune.timer.fire_job_id")
		jobIDs[pending[0]] = true
	}
	require.GreaterOrEqual(t, len(jobIDs), 3, "the job was replaced by each fire")
	require.GreaterOrEqual(t, len(eventsForRule(t, e, everySecond)), 2)
}

// Disabling a rule cancels its pending fire job in the same transaction and stops the events;
// enabling it again schedules a new job one interval later, without catching up the ticks of
// the disabled time. (On a fake clock.)
func TestTimerDisableCancelsAndEnableResumes(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	c := fakeClock(e)
	ctx := context.Background()
	registerPack(t, e, map[string]string{"every_second": intervalRule("every_second", 1, "seconds")})
	tm := timerOf(t, e, everySecond)
	deliver(t, e, c, onePending(t, e, tm.ID))
	require.Len(t, eventsForRule(t, e, everySecond), 1)
	pending := onePending(t, e, tm.ID)

	rule, err := e.Registry.SetRuleEnabled(ctx, everySecond, false)
	require.NoError(t, err)
	require.False(t, rule.Enabled)
	require.Equal(t, "cancelled", fireJobByID(t, e, tm.ID, pending.ID).State)
	tm = timerOf(t, e, everySecond)
	require.False(t, tm.Enabled)
	require.Nil(t, tm.NextFireAt)

	// Ticks pass while it is disabled; even its cancelled job, delivered, fires nothing.
	c.Set(pending.FireAt.Add(2500 * time.Millisecond))
	deliver(t, e, c, pending)
	require.Len(t, eventsForRule(t, e, everySecond), 1, "no event while disabled")
	require.Empty(t, pendingFireJobs(t, e, tm.ID))

	enabledAt := c.Now()
	rule, err = e.Registry.SetRuleEnabled(ctx, everySecond, true)
	require.NoError(t, err)
	require.True(t, rule.Enabled)
	tm = timerOf(t, e, everySecond)
	require.True(t, tm.Enabled)
	require.NotNil(t, tm.NextFireAt)
	resumed := onePending(t, e, tm.ID)
	require.NotEqual(t, pending.ID, resumed.ID, "a new job")
	require.Equal(t, *tm.FireJobID, resumed.ID)
	require.True(t, resumed.FireAt.Equal(*tm.NextFireAt))
	require.True(t, resumed.FireAt.Equal(enabledAt.Add(time.Second)), "one interval after enabling")

	deliver(t, e, c, resumed)
	evs := eventsForRule(t, e, everySecond)
	require.Len(t, evs, 2, "firing resumes")
	require.True(t, evs[1].ScheduledAt.Equal(enabledAt.Add(time.Second)), "first tick one interval after enabling, at %s", evs[1].ScheduledAt)
	require.Equal(t, float64(0), evs[1].Payload["missed"], "the disabled time is not caught up")
}

// A rule that vanished from its pack is deleted when the pack is registered again, and its
// pending fire job is cancelled in the same transaction; the pack's other timers are untouched.
// (On a fake clock.)
func TestTimerOfRuleRemovedFromPackStops(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	c := fakeClock(e)
	registerPack(t, e, map[string]string{
		"every_second": intervalRule("every_second", 1, "seconds"),
		"every_minute": intervalRule("every_minute", 1, "minutes"),
	})
	tm := timerOf(t, e, everySecond)
	deliver(t, e, c, onePending(t, e, tm.ID))
	require.Len(t, eventsForRule(t, e, everySecond), 1)
	kept := timerOf(t, e, everyMinute)
	pending := onePending(t, e, tm.ID)

	registerPack(t, e, map[string]string{"every_minute": intervalRule("every_minute", 1, "minutes")})

	require.Zero(t, count(t, e, `SELECT count(*) FROM attune.rule WHERE ref = $1`, everySecond), "rule deleted")
	require.Zero(t, count(t, e, `SELECT count(*) FROM attune.timer WHERE id = $1`, tm.ID), "timer deleted with its rule")
	require.Equal(t, "cancelled", fireJobByID(t, e, tm.ID, pending.ID).State)

	c.Set(pending.FireAt.Add(2500 * time.Millisecond))
	deliver(t, e, c, pending)
	require.Len(t, eventsForRule(t, e, everySecond), 1, "no event after the rule is gone")
	require.Empty(t, pendingFireJobs(t, e, tm.ID))
	require.Equal(t, kept, timerOf(t, e, everyMinute), "the other rule's timer is untouched")
}

// Registering the same pack again keeps each timer and its schedule: no reset, no second job.
func TestReregisteringUnchangedPackKeepsTimers(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	rules := map[string]string{
		"every_second": intervalRule("every_second", 1, "seconds"),
		"every_minute": intervalRule("every_minute", 1, "minutes"),
	}
	registerPack(t, e, rules)
	minute := timerOf(t, e, everyMinute)
	second := timerOf(t, e, everySecond)
	require.Eventually(t, func() bool { return len(eventsForRule(t, e, everySecond)) >= 1 },
		5*time.Second, 20*time.Millisecond)

	registerPack(t, e, rules)
	registerPack(t, e, rules)

	// A minute timer would have moved by the seconds since registration had it been reset.
	require.Equal(t, minute, timerOf(t, e, everyMinute), "same timer, next_fire_at and fire job")
	pending := pendingFireJobs(t, e, minute.ID)
	require.Len(t, pending, 1)
	require.Equal(t, *minute.FireJobID, pending[0].ID)

	after := timerOf(t, e, everySecond)
	require.Equal(t, second.ID, after.ID)
	require.False(t, after.NextFireAt.Before(*second.NextFireAt))
	recorded, ids := fireJobSnapshot(t, e, second.ID)
	require.Len(t, ids, 1)
	require.Equal(t, *recorded, ids[0])
	require.Equal(t, 1, count(t, e, `SELECT count(*) FROM attune.timer WHERE rule_id = $1`, second.RuleID))
	// Still on the original grid: every tick a whole number of seconds after the first.
	require.Eventually(t, func() bool { return len(eventsForRule(t, e, everySecond)) >= 3 },
		5*time.Second, 20*time.Millisecond)
	evs := eventsForRule(t, e, everySecond)
	for i, ev := range evs {
		require.True(t, ev.ScheduledAt.Equal(evs[0].ScheduledAt.Add(time.Duration(i)*time.Second)), "tick %d at %s", i, ev.ScheduledAt)
	}
}

// Changing a rule's schedule reschedules its timer: same timer, new fire time, the old job
// cancelled and one new job.
func TestChangedTimerRuleIsRescheduled(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerPack(t, e, map[string]string{"every_minute": intervalRule("every_minute", 1, "minutes")})
	before := timerOf(t, e, everyMinute)

	changedAt := time.Now()
	registerPack(t, e, map[string]string{"every_minute": intervalRule("every_minute", 2, "minutes")})

	after := timerOf(t, e, everyMinute)
	require.Equal(t, before.ID, after.ID)
	require.False(t, after.NextFireAt.Before(changedAt.Add(2*time.Minute).Truncate(time.Microsecond)), "two minutes from the change")
	require.Equal(t, "cancelled", fireJobByID(t, e, before.ID, *before.FireJobID).State)
	pending := pendingFireJobs(t, e, after.ID)
	require.Len(t, pending, 1)
	require.Equal(t, *after.FireJobID, pending[0].ID)
	require.True(t, pending[0].FireAt.Equal(*after.NextFireAt))
}

// Ticks missed while nothing ran collapse into one catch-up fire that says how many it stands
// for; then the timer goes on on its original grid. (On a fake clock.)
func TestIntervalTimerCatchesUpAfterDowntime(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	c := fakeClock(e)
	registerPack(t, e, map[string]string{"every_second": intervalRule("every_second", 1, "seconds")})
	tm := timerOf(t, e, everySecond)
	due := *tm.NextFireAt

	// Down from before the first tick until 3.5 s after it: the ticks at due+1s, +2s and +3s pass.
	c.Set(due.Add(3500 * time.Millisecond))
	deliver(t, e, c, onePending(t, e, tm.ID))

	evs := eventsForRule(t, e, everySecond)
	require.Len(t, evs, 1)
	catchUp := evs[0]
	require.True(t, catchUp.ScheduledAt.Equal(due), "the catch-up fire is the overdue tick, %s", catchUp.ScheduledAt)
	require.Equal(t, float64(3), catchUp.Payload["missed"], "ticks at +1s, +2s and +3s collapsed into it")
	require.Equal(t, float64(3500), catchUp.Payload["lateness_ms"])
	require.True(t, catchUp.payloadTime(t, "next_fire_at").Equal(due.Add(4*time.Second)))

	next := onePending(t, e, tm.ID)
	require.True(t, next.FireAt.Equal(due.Add(4*time.Second)), "next tick on the original grid, %s", next.FireAt)
	deliver(t, e, c, next)
	evs = eventsForRule(t, e, everySecond)
	require.Len(t, evs, 2, "the rhythm resumes")
	require.True(t, evs[1].ScheduledAt.Equal(due.Add(4*time.Second)))
	require.Equal(t, float64(0), evs[1].Payload["missed"])
}

// The reconciler restores a fire job that vanished, for the same fire time, and does nothing
// when every timer has its job.
func TestReconcileRestoresLostFireJob(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, map[string]string{"every_minute": intervalRule("every_minute", 1, "minutes")})
	tm := timerOf(t, e, everyMinute)

	_, err := e.DB.Pool.Exec(ctx, `DELETE FROM river_job WHERE id = $1`, *tm.FireJobID)
	require.NoError(t, err)
	require.Empty(t, pendingFireJobs(t, e, tm.ID))

	n, err := e.Timers.Reconcile(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	restored := timerOf(t, e, everyMinute)
	require.True(t, restored.NextFireAt.Equal(*tm.NextFireAt), "same fire time")
	pending := pendingFireJobs(t, e, tm.ID)
	require.Len(t, pending, 1)
	require.Equal(t, *restored.FireJobID, pending[0].ID)
	require.NotEqual(t, *tm.FireJobID, pending[0].ID)
	require.True(t, pending[0].FireAt.Equal(*tm.NextFireAt))

	n, err = e.Timers.Reconcile(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing to restore")
	require.Equal(t, pending, pendingFireJobs(t, e, tm.ID))
}

// A fire delivered three times writes one event, and only one next fire job.
func TestDuplicateFireDeliveryFiresOnce(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	registerPack(t, e, map[string]string{"every_second": intervalRule("every_second", 1, "seconds")})
	tm := timerOf(t, e, everySecond)
	due := *tm.NextFireAt
	args := jobs.TimerFireArgs{TimerID: tm.ID, FireAt: due.UTC()}

	// River itself drops a second insert of the same fire: empty UniqueOpts fall back to the
	// kind's own (unique by args).
	res, err := e.River.Insert(ctx, args, &river.InsertOpts{Queue: jobs.QueueTimers})
	require.NoError(t, err)
	require.True(t, res.UniqueSkippedAsDuplicate)
	require.Equal(t, *tm.FireJobID, res.Job.ID)
	// Deliver it twice more under other unique keys, as a redelivery past River's uniqueness would.
	for _, u := range []river.UniqueOpts{{ByArgs: true, ByQueue: true}, {ByArgs: true, ExcludeKind: true}} {
		res, err := e.River.Insert(ctx, args, &river.InsertOpts{Queue: jobs.QueueTimers, UniqueOpts: u})
		require.NoError(t, err)
		require.False(t, res.UniqueSkippedAsDuplicate)
	}
	require.Len(t, pendingFireJobs(t, e, tm.ID), 3)
	startRiver(t, e)

	require.Eventually(t, func() bool {
		done := 0
		for _, j := range fireJobs(t, e, tm.ID) {
			if j.FireAt.Equal(due) && j.State == "completed" {
				done++
			}
		}
		return done == 3
	}, 5*time.Second, 10*time.Millisecond, "all three deliveries of the tick ran")

	n := 0
	for _, ev := range eventsForRule(t, e, everySecond) {
		if ev.ScheduledAt.Equal(due) {
			n++
		}
	}
	require.Equal(t, 1, n, "one event for the tick")
	var fireCount int64
	var events int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT (SELECT fire_count FROM attune.timer WHERE id = $1),
		(SELECT count(*) FROM attune.event WHERE timer_id = $1)`, tm.ID).Scan(&fireCount, &events))
	require.Equal(t, int64(events), fireCount, "the timer advanced once per event")
	recorded, pending := fireJobSnapshot(t, e, tm.ID)
	require.Len(t, pending, 1, "one next fire job")
	require.Equal(t, *recorded, pending[0])
}

// A cron timer with seconds fires at whole seconds.
func TestCronTimerFiresOnWholeSeconds(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerPack(t, e, map[string]string{"cron": cronRule("cron", "*/1 * * * * *")})

	var evs []timerEvent
	require.Eventually(t, func() bool {
		evs = eventsForRule(t, e, "tp.cron")
		return len(evs) >= 2
	}, 4*time.Second, 20*time.Millisecond)
	for i, ev := range evs {
		require.True(t, ev.ScheduledAt.Equal(ev.ScheduledAt.Truncate(time.Second)), "whole second: %s", ev.ScheduledAt)
		require.True(t, ev.payloadTime(t, "scheduled_at").Equal(ev.ScheduledAt))
		require.Equal(t, "cron", ev.Payload["type"])
		require.Equal(t, "*/1 * * * * *", ev.Payload["expression"])
		if i > 0 {
			require.Equal(t, time.Second, ev.ScheduledAt.Sub(evs[i-1].ScheduledAt))
		}
	}
}

// A datetime timer fires once, at its time, and is then done: no next fire time, no job; its
// fire delivered again later fires nothing. (On a fake clock.)
func TestDatetimeTimerFiresOnce(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	c := fakeClock(e)
	fireAt := c.Now().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
	registerPack(t, e, map[string]string{"once": datetimeRule("once", fireAt)})
	tm := timerOf(t, e, "tp.once")
	job := onePending(t, e, tm.ID)
	require.True(t, job.FireAt.Equal(fireAt))

	deliver(t, e, c, job)
	c.Set(fireAt.Add(2 * time.Second))
	deliver(t, e, c, job)

	evs := eventsForRule(t, e, "tp.once")
	require.Len(t, evs, 1, "fired exactly once")
	require.True(t, evs[0].ScheduledAt.Equal(fireAt), "scheduled at fire_at: %s", evs[0].ScheduledAt)
	require.True(t, evs[0].payloadTime(t, "fired_at").Equal(fireAt), "fired at the clock's time")
	require.Equal(t, "datetime", evs[0].Payload["type"])
	require.NotContains(t, evs[0].Payload, "next_fire_at")
	tm = timerOf(t, e, "tp.once")
	require.Nil(t, tm.NextFireAt)
	require.Equal(t, int64(1), tm.FireCount)
	require.Empty(t, pendingFireJobs(t, e, tm.ID))
}

// A fire time further away than River's 5-second scheduler interval is still kept to the moment:
// the job does not wait for River's scheduler to notice it is due.
func TestTimerFarAheadFiresOnTime(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	fireAt := time.Now().Add(6500 * time.Millisecond).Truncate(time.Millisecond)
	registerPack(t, e, map[string]string{"later": datetimeRule("later", fireAt)})

	var evs []timerEvent
	require.Eventually(t, func() bool {
		evs = eventsForRule(t, e, "tp.later")
		return len(evs) == 1
	}, 9*time.Second, 20*time.Millisecond)
	require.True(t, evs[0].ScheduledAt.Equal(fireAt))
	fired := evs[0].payloadTime(t, "fired_at")
	require.False(t, fired.Before(fireAt), "not early")
	require.Less(t, fired.Sub(fireAt), time.Second, "on time, not up to 5 s late")
}

// An operator's `rule disable` survives registering the pack again: the rule stays disabled and
// its timer stopped. The converse holds too: a rule the pack file ships disabled, once enabled,
// stays enabled with its timer running. The file's `enabled` applies only to a new rule.
func TestRuleEnabledSurvivesReregistration(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	const shippedOff = "tp.shipped_off"
	rules := map[string]string{
		"every_minute": intervalRule("every_minute", 1, "minutes"),
		"shipped_off":  intervalRule("shipped_off", 1, "minutes") + "enabled: false\n",
	}
	registerPack(t, e, rules)
	_, err := e.Registry.SetRuleEnabled(ctx, everyMinute, false)
	require.NoError(t, err)
	_, err = e.Registry.SetRuleEnabled(ctx, shippedOff, true)
	require.NoError(t, err)

	registerPack(t, e, rules)

	enabled := func(ref string) bool {
		return count(t, e, `SELECT count(*) FROM attune.rule WHERE ref = $1 AND enabled`, ref) == 1
	}
	require.False(t, enabled(everyMinute), "disabled by the operator, still disabled")
	off := timerOf(t, e, everyMinute)
	require.False(t, off.Enabled)
	require.Empty(t, pendingFireJobs(t, e, off.ID), "no fire job for a disabled rule")

	require.True(t, enabled(shippedOff), "enabled by the operator, still enabled")
	on := timerOf(t, e, shippedOff)
	require.True(t, on.Enabled)
	pending := pendingFireJobs(t, e, on.ID)
	require.Len(t, pending, 1)
	require.Equal(t, *on.FireJobID, pending[0].ID)
}

// A fire job due within fireLead waits for its tick in its worker: it never snoozes, which
// would leave it to the queue's next poll.
func TestNearFireJobWaitsInItsWorker(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerPack(t, e, map[string]string{"every_second": intervalRule("every_second", 1, "seconds")})
	tm := timerOf(t, e, everySecond)
	require.Eventually(t, func() bool { return len(eventsForRule(t, e, everySecond)) >= 3 },
		6*time.Second, 20*time.Millisecond)
	// The jobs of fired ticks are completed by River's batched completer, shortly after.
	require.Eventually(t, func() bool {
		return count(t, e, `SELECT count(*) FROM river_job WHERE kind = $1 AND (args->>'timer_id')::bigint = $2
			AND state = 'completed'`, jobs.KindTimerFire, tm.ID) >= 3
	}, 5*time.Second, 20*time.Millisecond, "3 fire jobs completed")
	require.Zero(t, count(t, e, `SELECT count(*) FROM river_job WHERE kind = $1 AND (args->>'timer_id')::bigint = $2
		AND metadata ? 'snoozes'`, jobs.KindTimerFire, tm.ID), "fire jobs snoozed")
}
