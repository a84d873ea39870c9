package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// dataDirCheckInterval is how often attune start checks that the embedded cluster's data
// directory is still there.
const dataDirCheckInterval = 2 * time.Second

// errDataDirLost is the cause of a start context ended because the data directory went away.
var errDataDirLost = errors.New("the data directory was removed while attune ran")

// watchDataDir returns a context that ends, besides when ctx does, when the embedded cluster's
// data directory is removed or replaced under the running process (rm -rf .attune): it logs an
// error, and the replica then stops as on SIGTERM, and stops PostgreSQL by its pid (see
// embedded.Handle.Release). stop ends the watch. With an external database it watches nothing.
func (a *app) watchDataDir(ctx context.Context, log *slog.Logger) (_ context.Context, stop func()) {
	if a.embedded == nil {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		tick := time.NewTicker(dataDirCheckInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := a.embedded.Lost(); err != nil {
					log.Error("data directory lost: stopping attune and its embedded postgres", "error", err)
					cancel(fmt.Errorf("%w: %v", errDataDirLost, err))
					return
				}
			}
		}
	}()
	return ctx, func() { cancel(nil) }
}
