package runtimes

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/attune-run/attune"
)

// benchParallelism is how many runs go on at once in the parallel benchmarks: the worker's
// default concurrency (worker.concurrency), which the bench's B2 uses too.
const benchParallelism = 10

// BenchmarkRawSpawn is the floor the shell runtime is measured against: `/bin/sh -c true`, one
// process, as the bench's B2 runs it. Compare with BenchmarkShellRun:
//
//	go test -run '^$' -bench 'RawSpawn|ShellRun' -benchtime 2s ./runtimes/
func BenchmarkRawSpawn(b *testing.B) {
	run := func() error { return exec.Command("/bin/sh", "-c", "true").Run() }
	b.Run("seq", func(b *testing.B) { benchSeq(b, run) })
	b.Run("par", func(b *testing.B) { benchPar(b, run) })
}

// BenchmarkShellRun runs core.echo (packs/core/actions/echo.sh, dotenv parameters on stdin)
// through Set.Run with live output writers, as a worker's dispatch does.
func BenchmarkShellRun(b *testing.B) {
	set := New(Config{WorkDir: filepath.Join(b.TempDir(), "work")})
	req := coreEcho(b, map[string]any{"message": "event 1"})
	req.Env = map[string]string{"ATTUNE_WORKER": "bench"}
	req.Stdout, req.Stderr = io.Discard, io.Discard
	run := func() error {
		res, err := set.Run(context.Background(), req)
		if err == nil && (res.Status != attune.StatusCompleted || res.Stdout != "event 1\n") {
			b.Fatalf("core.echo ended %s with %q: %s", res.Status, res.Stdout, res.Error)
		}
		return err
	}
	b.Run("seq", func(b *testing.B) { benchSeq(b, run) })
	b.Run("par", func(b *testing.B) { benchPar(b, run) })
}

// benchSeq calls run b.N times, one after the other.
func benchSeq(b *testing.B, run func() error) {
	cpu := startCPU()
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// benchPar calls run b.N times, benchParallelism at once.
func benchPar(b *testing.B, run func() error) {
	cpu := startCPU()
	b.SetParallelism((benchParallelism + 1) / max(1, runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := run(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.report(b)
}

// cpuClock reads the CPU time of this process, of its waited-for children and of the watchdog.
type cpuClock struct{ self, children, watchdog time.Duration }

func startCPU() cpuClock {
	return cpuClock{self: rusage(syscall.RUSAGE_SELF), children: rusage(syscall.RUSAGE_CHILDREN), watchdog: watchdogCPU()}
}

// report adds the CPU per run, of the worker (this process) and of the actions (its children),
// to the benchmark's figures.
func (c cpuClock) report(b *testing.B) {
	n := float64(b.N)
	self := rusage(syscall.RUSAGE_SELF) - c.self
	children := rusage(syscall.RUSAGE_CHILDREN) - c.children
	b.ReportMetric(float64(self.Microseconds())/n, "worker-cpu-µs/op")
	b.ReportMetric(float64(children.Microseconds())/n, "child-cpu-µs/op")
	if wd := watchdogCPU() - c.watchdog; wd > 0 {
		b.ReportMetric(float64(wd.Microseconds())/n, "watchdog-cpu-µs/op")
	}
}

// watchdogCPU returns the CPU time the worker's watchdog has used, at the kernel's clock tick
// resolution; 0 when none runs.
func watchdogCPU() time.Duration {
	pid := theWatchdog.pid.Load()
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile("/proc/" + strconv.FormatInt(pid, 10) + "/stat")
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	f := strings.Fields(rest) // state is f[0]; utime and stime are fields 14 and 15 of stat
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
