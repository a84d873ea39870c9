//go:build !linux

package bench

import "syscall"

// childAttr is empty where there is no parent-death signal.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
