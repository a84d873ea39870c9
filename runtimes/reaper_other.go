//go:build unix && !linux

package runtimes

import "log/slog"

// reaper does nothing on this platform: there is no child subreaper, so processes an action
// detaches (setsid) may outlive it.
type reaper struct{}

func startReaper(*slog.Logger) *reaper { return &reaper{} }

func (*reaper) trackGroup(int)         {}
func (*reaper) endGroup(int)           {}
func (*reaper) reapZombies()           {}
func (*reaper) killEscaped(string) int { return 0 }
