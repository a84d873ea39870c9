package runtimes

import (
	"context"
	"time"

	"github.com/attune-run/attune"
)

// noopRunner is the noop runtime: it starts no process and answers with its parameters.
type noopRunner struct{}

// Run completes at once with Data set to a deep copy of req.Parameters, unless ctx is already
// done, in which case the run is cancelled.
func (noopRunner) Run(ctx context.Context, req Request) (Result, error) {
	start := time.Now()
	if ctx.Err() != nil {
		return cancelled(ctx, time.Since(start)), nil
	}
	data := map[string]any{}
	if req.Parameters != nil {
		data = copyValue(req.Parameters).(map[string]any)
	}
	return Result{
		Status:   attune.StatusCompleted,
		Data:     data,
		Duration: time.Since(start),
	}, nil
}

// cancelled returns the Result of a run stopped because ctx is done.
func cancelled(ctx context.Context, d time.Duration) Result {
	return Result{
		Status:   attune.StatusCancelled,
		ExitCode: -1,
		Error:    cancelMessage(ctx),
		Duration: d,
	}
}

// cancelMessage says why ctx is done, for Result.Error.
func cancelMessage(ctx context.Context) string {
	return oneLine("cancelled: " + context.Cause(ctx).Error())
}

// copyValue deep-copies the maps and slices of a JSON-like value; other values are returned as
// they are.
func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return map[string]any(nil)
		}
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = copyValue(e)
		}
		return m
	case []any:
		if v == nil {
			return []any(nil)
		}
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = copyValue(e)
		}
		return s
	default:
		return v
	}
}
