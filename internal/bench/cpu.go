package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc CPU times; 100 on every Linux that Go supports.
const clockTicks = 100

// cpuSample is the machine's and some processes' CPU time at one moment, from /proc.
type cpuSample struct {
	at       time.Time
	busy     float64 // seconds the machine's CPUs were not idle, summed over CPUs
	postgres float64 // seconds of CPU used by processes named postgres
	bench    float64 // seconds of CPU used by this process
	workers  float64 // seconds of CPU used by the given worker processes
}

// sampleCPU reads /proc. Where there is no /proc, every figure is zero.
func sampleCPU(workerPIDs ...int) cpuSample {
	s := cpuSample{at: time.Now()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		for i := 1; i < len(f); i++ {
			v, _ := strconv.ParseFloat(f[i], 64)
			if i != 4 && i != 5 { // idle, iowait
				s.busy += v / clockTicks
			}
		}
	}
	s.bench = procCPU(os.Getpid())
	for _, pid := range workerPIDs {
		s.workers += procCPU(pid)
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile(d + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			s.postgres += procCPU(pid)
		}
	}
	return s
}

// procCPU is a process's user plus system CPU seconds, 0 when it cannot be read.
func procCPU(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces: count from after it.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / clockTicks
}

// cpuUse is where the machine's CPU went between two samples, as fractions of all its CPUs.
type cpuUse struct {
	Busy, Postgres, Bench, Workers float64
	CPUs                           int
}

func (a cpuSample) to(b cpuSample) cpuUse {
	wall := b.at.Sub(a.at).Seconds() * float64(runtime.NumCPU())
	if wall <= 0 {
		return cpuUse{}
	}
	return cpuUse{
		Busy: (b.busy - a.busy) / wall, Postgres: (b.postgres - a.postgres) / wall,
		Bench: (b.bench - a.bench) / wall, Workers: (b.workers - a.workers) / wall,
		CPUs: runtime.NumCPU(),
	}
}

// String says where the CPU went, e.g. "CPU 97% busy of 2: postgres 61%, bench 30%".
func (u cpuUse) String() string {
	if u.CPUs == 0 {
		return "CPU n/a"
	}
	s := fmt.Sprintf("CPU %.0f%% busy of %d: postgres %.0f%%, bench process %.0f%%", u.Busy*100, u.CPUs, u.Postgres*100, u.Bench*100)
	if u.Workers > 0 {
		s += fmt.Sprintf(", worker processes %.0f%%", u.Workers*100)
	}
	return s + fmt.Sprintf(", other %.0f%%", max(u.Busy-u.Postgres-u.Bench-u.Workers, 0)*100)
}

// msPer is the CPU milliseconds that postgres, this process and the worker processes spent per
// item over d: the cost of one execution, which noise from other work on the machine barely
// moves.
func (u cpuUse) msPer(n int, d time.Duration) float64 {
	if n == 0 {
		return 0
	}
	return (u.Postgres + u.Bench + u.Workers) * float64(u.CPUs) * d.Seconds() * 1000 / float64(n)
}
