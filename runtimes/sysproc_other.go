//go:build unix && !linux

package runtimes

import "syscall"

// sysProcAttr puts the child in its own process group. Pdeathsig is Linux-only: on this
// platform the watchdog alone kills a crashed worker's actions.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// pipeFDs returns a new pipe's read and write ends, closed on exec.
func pipeFDs() (r, w int, err error) {
	var fd [2]int
	syscall.ForkLock.RLock() // no fork may inherit the ends before they are marked
	defer syscall.ForkLock.RUnlock()
	if err := syscall.Pipe(fd[:]); err != nil {
		return -1, -1, err
	}
	syscall.CloseOnExec(fd[0])
	syscall.CloseOnExec(fd[1])
	return fd[0], fd[1], nil
}
