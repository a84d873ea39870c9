package attune

import (
	"slices"
	"time"
)

// Backoff strategies of a retry policy.
const (
	BackoffConstant    = "constant"
	BackoffExponential = "exponential"
)

// RetryPolicy says when a finished execution is run again, as a new attempt. Without a policy an
// execution is never retried.
type RetryPolicy struct {
	Count   int               `json:"count"`   // retries after the first attempt
	Delay   time.Duration     `json:"delay"`   // before the first retry
	Backoff string            `json:"backoff"` // BackoffConstant (default) or BackoffExponential
	On      []ExecutionStatus `json:"on"`      // statuses that are retried; default failed, timeout, abandoned
}

// RetryableStatuses are the statuses a policy may retry, and its default.
var RetryableStatuses = []ExecutionStatus{StatusFailed, StatusTimeout, StatusAbandoned}

// Next reports whether an attempt that ended in status is retried and, if so, after how long.
// attempt counts from 1. A cancelled attempt is never retried, whatever the policy says.
func (p *RetryPolicy) Next(attempt int, status ExecutionStatus) (time.Duration, bool) {
	if p == nil || attempt > p.Count || status == StatusCancelled {
		return 0, false // someone asked a cancelled execution to stop: never run it again
	}
	on := p.On
	if len(on) == 0 {
		on = RetryableStatuses
	}
	if !slices.Contains(on, status) {
		return 0, false
	}
	d := p.Delay
	if p.Backoff == BackoffExponential {
		for i := 1; i < attempt && d < time.Hour; i++ {
			d *= 2
		}
	}
	return d, true
}
