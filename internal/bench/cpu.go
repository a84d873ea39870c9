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

// cpuSample is the machine's and some processes' CPU time at one moment, from /proc, in seconds.
type cpuSample struct {
	at       time.Time
	busy     float64 // the machine's CPUs were not idle, summed over CPUs
	postgres float64 // the bench cluster: its postmaster, the children it reaped and those alive
	bench    float64 // this process: the in-process replicas and the bench itself
	children float64 // this process's reaped children: the processes the shell runtime ran
	workers  float64 // the given worker replica processes
}

// sampleCPU reads /proc: the machine, the cluster whose postmaster is pid postmaster (0: none),
// this process and the worker processes. Where there is no /proc, every figure is zero.
func sampleCPU(postmaster int, workerPIDs ...int) cpuSample {
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
	self := readProcStat(os.Getpid())
	s.bench, s.children = self.cpu, self.reaped
	for _, pid := range workerPIDs {
		s.workers += readProcStat(pid).cpu
	}
	if postmaster > 0 {
		s.postgres = serverCPU(postmaster)
	}
	return s
}

// serverCPU is the CPU seconds of a PostgreSQL server: the postmaster's own, its children that
// have exited (it reaps every backend, so their time moves into its reaped time) and its living
// children's. Other clusters on the machine are not counted.
func serverCPU(postmaster int) float64 {
	pm := readProcStat(postmaster)
	total := pm.cpu + pm.reaped
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == postmaster {
			continue
		}
		if st := readProcStat(pid); st.ppid == postmaster {
			total += st.cpu
		}
	}
	return total
}

// procStat is what the bench reads from /proc/PID/stat.
type procStat struct {
	ppid   int
	cpu    float64 // user plus system seconds of the process itself
	reaped float64 // user plus system seconds of its children that it waited for
}

// readProcStat reads /proc/PID/stat; the zero procStat when it cannot be read.
func readProcStat(pid int) procStat {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}
	}
	st, _ := parseProcStat(string(b))
	return st
}

// parseProcStat parses a /proc/PID/stat line (proc(5)).
func parseProcStat(line string) (procStat, bool) {
	// The command name, field 2, is in parentheses and may hold spaces and parentheses: count
	// from after the last one.
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(line[i+1:]) // f[0] is field 3, the state
	if len(f) < 15 {
		return procStat{}, false
	}
	var v [5]float64
	for j, field := range []int{1, 11, 12, 13, 14} { // ppid, utime, stime, cutime, cstime
		n, err := strconv.ParseFloat(f[field], 64)
		if err != nil {
			return procStat{}, false
		}
		v[j] = n
	}
	return procStat{ppid: int(v[0]), cpu: (v[1] + v[2]) / clockTicks, reaped: (v[3] + v[4]) / clockTicks}, true
}

// CPUCost is the CPU milliseconds that one execution cost, by who spent them.
type CPUCost struct {
	// Attune is the attune replica processes: the in-process replica (with the bench's own
	// polling, a few cheap queries a second) and any worker replica processes.
	Attune float64 `json:"attune"`
	// Postgres is the bench cluster's server processes.
	Postgres float64 `json:"postgres"`
	// Actions is the processes the actions ran (the shell runtime's), reaped by the replica.
	Actions float64 `json:"actions,omitempty"`
}

// Total is all of it.
func (c CPUCost) Total() float64 { return c.Attune + c.Postgres + c.Actions }

// String is e.g. "attune 1.20 + postgres 2.80 = 4.00" (with "+ actions 0.50" when there are any).
func (c CPUCost) String() string {
	s := fmt.Sprintf("attune %.2f + postgres %.2f", c.Attune, c.Postgres)
	if c.Actions > 0 {
		s += fmt.Sprintf(" + actions %.2f", c.Actions)
	}
	return s + fmt.Sprintf(" = %.2f", c.Total())
}

// cpuPer is the CPU that n executions cost between samples a and b, per execution: the figure
// that noise from other work on the machine barely moves. Zero when n is not positive.
func cpuPer(a, b cpuSample, n int) CPUCost {
	if n <= 0 {
		return CPUCost{}
	}
	ms := func(from, to float64) float64 { return round(max(to-from, 0)*1000/float64(n), 3) }
	return CPUCost{
		Attune:   ms(a.bench+a.workers, b.bench+b.workers),
		Postgres: ms(a.postgres, b.postgres),
		Actions:  ms(a.children, b.children),
	}
}

// cpuUse is where the machine's CPU went between two samples, as fractions of all its CPUs.
type cpuUse struct {
	Busy, Postgres, Bench, Children, Workers float64
	CPUs                                     int
}

func (a cpuSample) to(b cpuSample) cpuUse {
	wall := b.at.Sub(a.at).Seconds() * float64(runtime.NumCPU())
	if wall <= 0 {
		return cpuUse{}
	}
	return cpuUse{
		Busy: (b.busy - a.busy) / wall, Postgres: (b.postgres - a.postgres) / wall,
		Bench: (b.bench - a.bench) / wall, Children: (b.children - a.children) / wall,
		Workers: (b.workers - a.workers) / wall, CPUs: runtime.NumCPU(),
	}
}

// String says where the CPU went, e.g. "CPU 97% busy of 2: postgres 61%, bench 30%, other 6%".
// Other is everything else on the machine.
func (u cpuUse) String() string {
	if u.CPUs == 0 {
		return "CPU n/a"
	}
	s := fmt.Sprintf("CPU %.0f%% busy of %d: bench postgres %.0f%%, bench process %.0f%%", u.Busy*100, u.CPUs, u.Postgres*100, u.Bench*100)
	if u.Children > 0 {
		s += fmt.Sprintf(", action processes %.0f%%", u.Children*100)
	}
	if u.Workers > 0 {
		s += fmt.Sprintf(", worker processes %.0f%%", u.Workers*100)
	}
	return s + fmt.Sprintf(", other %.0f%%", max(u.Busy-u.Postgres-u.Bench-u.Children-u.Workers, 0)*100)
}
