package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Latency is a latency summary in the JSON report, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Lateness is the timer lateness summary in the JSON report, in milliseconds.
type Lateness struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Report is the bench's figures. Its JSON keys are stable, so runs can be compared over time;
// Details holds what only the table shows.
type Report struct {
	BaselineRiverJobsPerS float64  `json:"baseline_river_jobs_per_s"`
	BaselineSpawnPerS     float64  `json:"baseline_spawn_per_s"`
	BaselinePGTxPerS      float64  `json:"baseline_pg_tx_per_s"`
	NoopExecPerS          float64  `json:"noop_exec_per_s"`
	ShellExecPerS         float64  `json:"shell_exec_per_s"`
	NoopLatencyMS         Latency  `json:"noop_latency_ms"`
	ShellLatencyMS        Latency  `json:"shell_latency_ms"`
	NoopStartLatencyMS    Latency  `json:"noop_start_latency_ms"`
	TimerLatenessMS       Lateness `json:"timer_lateness_ms"`
	TimerMissed           int      `json:"timer_missed"`
	// TimerCommittedMS is how late each tick's event was committed, not just computed
	// (TimerLatenessMS is the payload's fired_at).
	TimerCommittedMS     Lateness           `json:"timer_committed_ms"`
	TimerDuplicates      int                `json:"timer_duplicates"`
	ScaleoutNoopExecPerS map[string]float64 `json:"scaleout_noop_exec_per_s"`
	WorkerPeakRSSMB      float64            `json:"worker_peak_rss_mb"`

	// The cost of one execution in the throughput runs, which holds steady on a noisy machine:
	// CPU milliseconds (attune's processes, the cluster's, and for shell the action processes),
	// statements (pg_stat_statements calls, BEGIN and COMMIT included), commits
	// (pg_stat_database.xact_commit) and River jobs inserted.
	NoopCPUms       CPUCost `json:"noop_cpu_ms_per_exec"`
	NoopStatements  float64 `json:"noop_statements_per_exec"`
	NoopCommits     float64 `json:"noop_commits_per_exec"`
	NoopRiverJobs   float64 `json:"noop_river_jobs_per_exec"`
	ShellCPUms      CPUCost `json:"shell_cpu_ms_per_exec"`
	ShellStatements float64 `json:"shell_statements_per_exec"`
	ShellCommits    float64 `json:"shell_commits_per_exec"`
	ShellRiverJobs  float64 `json:"shell_river_jobs_per_exec"`
	// The share of attune.execution's row updates that were HOT (no index entry written), in
	// percent, in the throughput runs (pg_stat_user_tables.n_tup_hot_upd / n_tup_upd).
	NoopExecutionHOTPct  float64 `json:"noop_execution_hot_update_pct"`
	ShellExecutionHOTPct float64 `json:"shell_execution_hot_update_pct"`
	// ScaleoutCPUms is the CPU milliseconds (all of it: postgres, the rules replica and the
	// worker processes) per execution with 1, 2 and 4 worker processes.
	ScaleoutCPUms map[string]float64 `json:"scaleout_cpu_ms_per_exec"`

	// The HTTP API (issue 9): signed webhook deliveries acknowledged (202) per second from 20
	// clients on loopback and their request -> 202 latency, the same client loop against a bare
	// net/http handler answering 202, and POST /api/v1/executions of core.noop until terminal.
	WebhookEventsPerS   float64 `json:"webhook_events_per_s"`
	WebhookAckMS        Latency `json:"webhook_ack_ms"`
	HTTPBaselineReqPerS float64 `json:"http_baseline_req_per_s"`
	APIRunNoopMS        Latency `json:"api_run_noop_ms"`

	// PolicyAdmitMS is issue 12's figure for a threshold-1 concurrency policy: from the commit
	// that frees the slot (the holder's terminal transaction, which admits the next waiter and
	// commits its dispatch job with it) to that waiter running (its started_at).
	PolicyAdmitMS Latency `json:"policy_admit_ms"`

	// Workflows (issue 11). WorkflowTransitionMS: in sequential workflows of 20 core.noop
	// tasks, from a child turning terminal (the start of its terminal transaction) to the commit
	// of that transaction, which advances the workflow and commits the next child with its
	// dispatch job; WorkflowTransitionRunningMS: from the same moment to the next child running
	// (its started_at), River's fetch and the claim included. WithItems: one with-items task of
	// core.noop at concurrency 50, the workflow's created_at -> finished_at; WithItems1000S is
	// its seconds when it had 1,000 items (the full run; quick runs 200).
	WorkflowTransitionMS        Latency         `json:"workflow_transition_ms"`
	WorkflowTransitionRunningMS Latency         `json:"workflow_transition_running_ms"`
	WithItems                   withItemsResult `json:"with_items"`
	WithItems1000S              float64         `json:"with_items_1000_s,omitempty"`

	Details Details `json:"-"`
}

// Details are the figures behind the report that only the table shows.
type Details struct {
	Quick                 bool
	Events, ShellEvents   int
	Settings              Settings
	PGVersion             string
	RiverSelfCompletePerS float64 // B1 with JobCompleteTx in the worker's own transaction
	EchoRuntimePerS       float64 // B2': core.echo through the shell runtime, no database
	Noop, Shell           throughput
	NoopLatency           latency
	ShellLatency          latency
	Timers                timerResult
	Policy                policyAdmitResult
	Transition            workflowTransitionResult
	TimerRules            int
	Scale                 []scaleResult
	Webhook               webhookResult
	APIRun                apiRunResult
	Took                  time.Duration
	Ran                   map[string]bool // phases that ran (all but those --only left out)
}

// latencyOf keeps the JSON report's three percentiles.
func latencyOf(p Percentiles) Latency {
	return Latency{P50: round(p.P50, 2), P95: round(p.P95, 2), P99: round(p.P99, 2)}
}

// WriteJSON writes the report's figures under their stable keys.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Targets the issue sets; the table says whether each is met. No test asserts them.
const (
	targetNoopOfB1       = 0.25
	targetShellOfB2      = 0.70
	targetNoopP50        = 3.0 // issue 10: noop event → terminal p50 ≤ 3 ms, p99 ≤ 10 ms
	targetNoopP99        = 10.0
	targetShellP50       = 8.0
	targetTimerP99       = 50.0
	targetWorkerRSSMB    = 150.0
	targetNoopCPUms      = 1.0
	targetNoopRiverJobs  = 2.0
	targetTransitionP50  = 10.0
	targetWithItems1000S = 10.0 // scaled to the items run
	scaleRiseMinFraction = 1.05 // "rises": each step at least 5% above the previous
)

// WriteTable prints the report as one aligned table, with the run's context above it.
func (r *Report) WriteTable(w io.Writer) error {
	d := r.Details
	mode := "full"
	if d.Quick {
		mode = "quick"
	}
	plan := d.Settings.PlanCacheMode
	if plan == "" {
		plan = "auto"
	}
	fmt.Fprintf(w, "attune bench (%s) on %s, %d CPUs; %d events per throughput run (shell %d); River fetch cooldown %s, poll %s; noop MaxWorkers %d, shell %d; pool %d, plan_cache_mode %s; took %s\n\n",
		mode, d.PGVersion, runtime.NumCPU(), d.Events, d.ShellEvents, d.Settings.FetchCooldown, d.Settings.FetchPollInterval,
		d.Settings.MaxWorkers, d.Settings.ShellConcurrency, d.Settings.MaxConns, plan, d.Took.Round(time.Second))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// row prints one metric of phase; a phase --only left out shows "not run".
	row := func(phase string, cells ...string) {
		if !d.Ran[phase] {
			cells = []string{cells[0], "not run", "-", "-", cells[4], "-"}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	fmt.Fprintln(tw, "METRIC\tVALUE\tBASELINE\tRATIO\tTARGET\tMET")
	row("b1", "B1 raw River no-op jobs/s", num(r.BaselineRiverJobsPerS), "-", "-", "-", "-")
	row("b1", "B1' raw River, JobCompleteTx in Work", num(d.RiverSelfCompletePerS), "-", "-", "-", "-")
	row("b2", fmt.Sprintf("B2 /bin/sh -c true per s (%d at once)", d.Settings.ShellConcurrency), num(r.BaselineSpawnPerS), "-", "-", "-", "-")
	row("b2", "B2' core.echo via attune's shell runtime alone", num(d.EchoRuntimePerS), "-", "-", "-", "-")
	row("b3", "B3 single-row insert tx/s (4 clients)", num(r.BaselinePGTxPerS), "-", "-", "-", "-")
	noopB1 := Ratio(r.NoopExecPerS, r.BaselineRiverJobsPerS)
	row("noop_throughput", "noop pipeline exec/s", num(r.NoopExecPerS), "B1 "+num(r.BaselineRiverJobsPerS), pct(noopB1), ">= 25% of B1", yes(noopB1 >= targetNoopOfB1))
	row("noop_throughput", "noop pipeline exec/s vs B1'", num(r.NoopExecPerS), "B1' "+num(d.RiverSelfCompletePerS), pct(Ratio(r.NoopExecPerS, d.RiverSelfCompletePerS)), "-", "-")
	row("noop_throughput", "noop pipeline exec/s vs B3", num(r.NoopExecPerS), "B3 "+num(r.BaselinePGTxPerS), pct(Ratio(r.NoopExecPerS, r.BaselinePGTxPerS)), "-", "-")
	row("noop_throughput", "noop CPU ms per exec", r.NoopCPUms.String(), "-", "-", fmt.Sprintf("<= %.1f", targetNoopCPUms), yes(r.NoopCPUms.Total() > 0 && r.NoopCPUms.Total() <= targetNoopCPUms))
	row("noop_throughput", "noop statements / commits per exec", perExecPair(r.NoopStatements, r.NoopCommits), "-", "-", "-", "-")
	row("noop_throughput", "noop River jobs per exec", fmt.Sprintf("%.2f", r.NoopRiverJobs), "-", "-", fmt.Sprintf("<= %.0f", targetNoopRiverJobs), yes(r.NoopRiverJobs > 0 && r.NoopRiverJobs <= targetNoopRiverJobs))
	row("noop_throughput", "noop execution row updates per exec (HOT)", hotCell(d.Noop.Cost), "-", "-", "-", "-")
	shellB2 := Ratio(r.ShellExecPerS, r.BaselineSpawnPerS)
	row("shell_throughput", "shell pipeline exec/s", num(r.ShellExecPerS), "B2 "+num(r.BaselineSpawnPerS), pct(shellB2), ">= 70% of B2", yes(shellB2 >= targetShellOfB2))
	row("shell_throughput", "shell pipeline exec/s vs B2'", num(r.ShellExecPerS), "B2' "+num(d.EchoRuntimePerS), pct(Ratio(r.ShellExecPerS, d.EchoRuntimePerS)), "-", "-")
	row("shell_throughput", "shell CPU ms per exec", r.ShellCPUms.String(), "-", "-", "-", "-")
	row("shell_throughput", "shell statements / commits per exec", perExecPair(r.ShellStatements, r.ShellCommits), "-", "-", "-", "-")
	row("shell_throughput", "shell River jobs per exec", fmt.Sprintf("%.2f", r.ShellRiverJobs), "-", "-", "-", "-")
	row("shell_throughput", "shell execution row updates per exec (HOT)", hotCell(d.Shell.Cost), "-", "-", "-", "-")
	nl, sl, ns := r.NoopLatencyMS, r.ShellLatencyMS, r.NoopStartLatencyMS
	row("noop_latency", "noop latency ms p50/p95/p99", trio(nl.P50, nl.P95, nl.P99), "-", "-", "p50 <= 3, p99 <= 10",
		yes(nl.P50 <= targetNoopP50 && nl.P99 <= targetNoopP99))
	row("noop_latency", "noop commit->start ms p50/p95/p99", trio(ns.P50, ns.P95, ns.P99), "-", "-", "-", "-")
	row("shell_latency", "shell latency ms p50/p95/p99", trio(sl.P50, sl.P95, sl.P99), "-", "-", "p50 <= 8", yes(sl.P50 <= targetShellP50))
	ss := latencyOf(d.ShellLatency.Start)
	row("shell_latency", "shell commit->start ms p50/p95/p99", trio(ss.P50, ss.P95, ss.P99), "-", "-", "-", "-")
	tl := r.TimerLatenessMS
	row("timers", fmt.Sprintf("timer lateness ms p50/p99/max (%d timers)", d.TimerRules), trio(tl.P50, tl.P99, tl.Max), "-", "-", "p99 <= 50", yes(tl.P99 <= targetTimerP99))
	tc := r.TimerCommittedMS
	row("timers", "timer event committed ms p50/p99/max", trio(tc.P50, tc.P99, tc.Max), "-", "-", "-", "-")
	row("timers", fmt.Sprintf("timer missed / duplicate ticks (of %d)", d.Timers.Expected),
		fmt.Sprintf("%d / %d", r.TimerMissed, r.TimerDuplicates), "-", "-", "0 / 0", yes(r.TimerMissed == 0 && r.TimerDuplicates == 0))
	pa := r.PolicyAdmitMS
	row("policy_admit", "policy slot freed->next running ms p50/p95/p99", trio(pa.P50, pa.P95, pa.P99), "-", "-", "-", "-")
	wt, wr := r.WorkflowTransitionMS, r.WorkflowTransitionRunningMS
	row("workflow_transition", "workflow child terminal->next dispatched ms p50/p95/p99", trio(wt.P50, wt.P95, wt.P99), "-", "-", "p50 < 10", yes(wt.P50 < targetTransitionP50))
	row("workflow_transition", "workflow child terminal->next running ms p50/p95/p99", trio(wr.P50, wr.P95, wr.P99), "-", "-", "-", "-")
	wi := r.WithItems
	row("with_items", fmt.Sprintf("with-items %d core.noop, concurrency %d, s", wi.Items, wi.Concurrency), fmt.Sprintf("%.2f", wi.Seconds), "-", "-", "1,000 in < 10", yes(wi.Seconds > 0 && wi.Seconds*1000/float64(max(wi.Items, 1)) < targetWithItems1000S))
	var scale, scaleCPU []string
	rising := len(d.Scale) > 1
	for i, s := range d.Scale {
		scale = append(scale, num(s.PerS))
		scaleCPU = append(scaleCPU, fmt.Sprintf("%.2f", s.Cost.Total()))
		if i > 0 && s.PerS < d.Scale[i-1].PerS*scaleRiseMinFraction {
			rising = false
		}
	}
	ratio, cpuRatio := "-", "-"
	if n := len(d.Scale); n > 1 {
		ratio = fmt.Sprintf("x%.2f", Ratio(d.Scale[n-1].PerS, d.Scale[0].PerS))
		cpuRatio = fmt.Sprintf("x%.2f", Ratio(d.Scale[n-1].Cost.Total(), d.Scale[0].Cost.Total()))
	}
	// On a machine of two CPUs or fewer, which PostgreSQL shares, one worker replica already
	// keeps them busy: more replicas only add contention, and the rate cannot rise.
	scaleTarget, scaleMet := "rises until PG limits", yes(rising)
	if cpus := runtime.NumCPU(); cpus <= 2 {
		scaleTarget, scaleMet = fmt.Sprintf("cannot rise: %d CPUs shared with PG", cpus), "n/a"
	}
	row("scaleout", "scale-out noop exec/s, 1/2/4 workers", strings.Join(scale, " / "), "B3 "+num(r.BaselinePGTxPerS), ratio, scaleTarget, scaleMet)
	row("scaleout", "scale-out CPU ms per exec, 1/2/4 workers", strings.Join(scaleCPU, " / "), "-", cpuRatio, "-", "-")
	rss := "n/a"
	if r.WorkerPeakRSSMB > 0 {
		rss = fmt.Sprintf("%.1f", r.WorkerPeakRSSMB)
	}
	row("scaleout", fmt.Sprintf("worker peak RSS MB (%d backlog)", d.Events), rss, "-", "-", "< 150", yes(r.WorkerPeakRSSMB > 0 && r.WorkerPeakRSSMB < targetWorkerRSSMB))
	wb := Ratio(r.WebhookEventsPerS, r.HTTPBaselineReqPerS)
	row("webhook", fmt.Sprintf("HTTP baseline: bare net/http 202/s (%d clients)", webhookClients), num(r.HTTPBaselineReqPerS), "-", "-", "-", "-")
	row("webhook", fmt.Sprintf("webhook signed deliveries 202/s (%d clients)", webhookClients), num(r.WebhookEventsPerS), "HTTP "+num(r.HTTPBaselineReqPerS), pct(wb), "-", "-")
	wa, al := r.WebhookAckMS, d.Webhook.Alone
	row("webhook", "webhook request->202 ms p50/p95/p99", trio(wa.P50, wa.P95, wa.P99), "-", "-", "-", "-")
	row("webhook", "webhook 202/s, replica processing no events", num(al.PerS), "HTTP "+num(r.HTTPBaselineReqPerS), pct(Ratio(al.PerS, r.HTTPBaselineReqPerS)), "-", "-")
	row("webhook", "  its request->202 ms p50/p95/p99", trio(al.Ack.P50, al.Ack.P95, al.Ack.P99), "-", "-", "-", "-")
	ar, ac := r.APIRunNoopMS, latencyOf(d.APIRun.Created)
	row("api_run", "API run core.noop->terminal ms p50/p95/p99", trio(ar.P50, ar.P95, ar.P99), "-", "-", "-", "-")
	row("api_run", "API run core.noop POST->201 ms p50/p95/p99", trio(ac.P50, ac.P95, ac.P99), "-", "-", "-", "-")
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	if d.Noop.NotOK+d.Shell.NotOK > 0 {
		notes = append(notes, fmt.Sprintf("executions not completed: noop %d, shell %d", d.Noop.NotOK, d.Shell.NotOK))
	}
	for _, t := range []struct {
		name, phase string
		t           throughput
	}{{"noop", "noop_throughput", d.Noop}, {"shell", "shell_throughput", d.Shell}} {
		if d.Ran[t.phase] {
			notes = append(notes, fmt.Sprintf("%s exec/s waits for every job the run inserted: the last execution was terminal at %.1f s (%s/s), the last of the %d jobs still queued then finished at %.1f s",
				t.name, t.t.ExecElapsed.Seconds(), num(Rate(t.t.Executed, t.t.ExecElapsed)), t.t.JobsAfter, t.t.Elapsed.Seconds()))
		}
	}
	if d.Ran["noop_latency"] || d.Ran["shell_latency"] {
		notes = append(notes, fmt.Sprintf("latency runs emitted %.0f and %.0f events/s", d.NoopLatency.Rate, d.ShellLatency.Rate))
	}
	if d.Ran["policy_admit"] {
		notes = append(notes, fmt.Sprintf("policy admission: %d executions of one action under a threshold-1 action.concurrency policy (delay), queued at once; the holder's terminal transaction frees the slot and commits the next waiter's dispatch job, so freed -> dispatch committed is 0 by construction: the figure is freed (that commit) -> the waiter running (its started_at), over %d waiters",
			d.Policy.Executions, d.Policy.Admit.N))
	}
	if d.Ran["workflow_transition"] {
		notes = append(notes, fmt.Sprintf("workflow transitions: %d workflows of %d core.noop tasks, one after the other; a child's terminal transaction records its end, advances the workflow (under the workflow row's lock) and inserts the next child with its dispatch job, so the figure is that transaction, from its start (the child's finished_at) to its commit; 'running' adds River's fetch and the claim (the next child's started_at); %d of %d next children were created in that transaction",
			d.Transition.Workflows, seqTasks, d.Transition.SameTx, d.Transition.Dispatch.N))
	}
	if d.Ran["webhook"] {
		w := d.Webhook
		notes = append(notes, fmt.Sprintf("webhook 202/s is the acknowledgement rate of %d GitHub-signed deliveries (HMAC checked, event + delivery id + processing job committed per 202) over loopback to one replica (rules, workers, api); its rule on core.webhook ran core.noop alongside, every execution terminal %.1f s after the first request (%s/s)",
			w.Webhook.N, w.Drained.Seconds(), num(Rate(w.Webhook.N, w.Drained))))
	}
	if d.Ran["api_run"] {
		notes = append(notes, fmt.Sprintf("API run: %d POST /api/v1/executions one after the other; the terminal status is heard by LISTEN attune_execution on the bench's own connection (NOTIFY in each transition's transaction), not by polling", d.APIRun.Terminal.N))
	}
	for _, n := range notes {
		fmt.Fprintln(w, "  "+n)
	}
	return nil
}

func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// perExecPair formats statements and commits per execution; statements are n/a without
// pg_stat_statements.
func perExecPair(statements, commits float64) string {
	st := "n/a"
	if statements > 0 {
		st = fmt.Sprintf("%.1f", statements)
	}
	return fmt.Sprintf("%s / %.2f", st, commits)
}

func pct(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

func trio(a, b, c float64) string { return fmt.Sprintf("%.1f / %.1f / %.1f", a, b, c) }

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// mbList formats peak RSS figures.
func mbList(mb []float64) string {
	if len(mb) == 0 {
		return "n/a"
	}
	parts := make([]string, len(mb))
	for i, v := range mb {
		parts[i] = fmt.Sprintf("%.1f", v)
	}
	return strings.Join(parts, ", ")
}

// hotCell is a run's attune.execution updates per execution and the share that was HOT.
func hotCell(c execCost) string {
	return fmt.Sprintf("%.2f (%.0f%% HOT)", c.Updates, c.HOTPct())
}
