package schedule

import "time"

// Schedule kinds, as returned by Schedule.Kind.
const (
	KindInterval = "interval"
	KindCron     = "cron"
	KindDatetime = "datetime"
)

// Schedule computes the fire times of one timer.
type Schedule interface {
	// Next returns the first fire time strictly after t, or the zero time when the timer never
	// fires again.
	Next(t time.Time) time.Time
	// Kind returns KindInterval, KindCron or KindDatetime.
	Kind() string
}

// maxMissed caps the missed count CatchUp reports for schedules it has to step through one fire
// at a time (cron), so a long outage of a per-second timer does not spin.
const maxMissed = 100_000

// First returns the first fire time of a timer enabled at enabledAt: for an interval timer one
// interval later, for a cron timer the next match after enabledAt, for a datetime timer its
// fire_at (whatever enabledAt is).
func First(s Schedule, enabledAt time.Time) time.Time {
	if d, ok := s.(Datetime); ok {
		return d.At
	}
	return s.Next(enabledAt)
}

// CatchUp is called when a fire scheduled at scheduled runs at now. It returns the next fire time
// after now and how many scheduled times in (scheduled, now] were missed; those collapse into
// the fire running now. The schedule is followed from scheduled, so interval timers never drift:
// next is scheduled + k*interval, the first such time after now. For a datetime timer next is
// zero and missed is 0. For cron (and any other Schedule) missed stops counting at 100000.
func CatchUp(s Schedule, scheduled, now time.Time) (next time.Time, missed int) {
	switch s := s.(type) {
	case Interval:
		return s.catchUp(scheduled, now)
	case Datetime:
		return time.Time{}, 0
	}
	for next = s.Next(scheduled); !next.IsZero() && !next.After(now); next = s.Next(next) {
		missed++
		if missed == maxMissed {
			return s.Next(now), missed
		}
	}
	return next, missed
}
