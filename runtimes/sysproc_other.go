//go:build unix && !linux

package runtimes

import "syscall"

// sysProcAttr puts the child in its own process group. Pdeathsig is Linux-only: on this
// platform the watchdog alone kills a crashed worker's actions.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
