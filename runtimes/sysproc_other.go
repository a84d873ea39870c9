//go:build unix && !linux

package runtimes

import "syscall"

// sysProcAttr puts the child in its own process group. Pdeathsig is Linux-only here, so a child
// may outlive a crashed worker on this platform.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// guarded returns argv unchanged: without Pdeathsig there is nothing for a guard to act on.
func guarded(argv []string) []string { return argv }

// guardedScript returns the command line that runs the shell script file with the shell at path
// shell.
func guardedScript(shell, file string) []string { return []string{shell, file} }
