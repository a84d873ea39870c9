package bench

import (
	"context"
	"strconv"
)

// selfCompleteJobs caps the jobs of B1', which runs near 2,000 a second.
const selfCompleteJobs = 5000

// pgFloor is B3.
func (b *runner) pgFloor(ctx context.Context) error {
	return b.onCopy(ctx, "b3", templateDB, func(url string) error {
		v, err := pgBaseline(ctx, url, 4, b.plan.baseline)
		if err != nil {
			return err
		}
		b.r.BaselinePGTxPerS = round(v, 0)
		b.say("B3 single-row insert transactions, 4 clients: %s/s", num(v))
		return nil
	})
}

// riverFloor is B1, and B1' with the jobs completing themselves as attune's steps do.
func (b *runner) riverFloor(ctx context.Context) error {
	for _, self := range []bool{false, true} {
		err := b.onCopy(ctx, "b1", templateDB, func(url string) error {
			n := b.plan.events
			if self {
				n = min(n, selfCompleteJobs) // at about 2,000 a second: enough for a steady rate
			}
			v, err := riverBaseline(ctx, url, b.cfg.Settings, n, self)
			if err != nil {
				return err
			}
			if self {
				b.r.Details.RiverSelfCompletePerS = round(v, 0)
				b.say("B1' raw River no-op jobs completing themselves with JobCompleteTx: %s/s", num(v))
			} else {
				b.r.BaselineRiverJobsPerS = round(v, 0)
				b.say("B1 raw River no-op jobs: %s/s", num(v))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// spawnFloor is B2, and B2' with core.echo run through attune's shell runtime alone.
func (b *runner) spawnFloor(ctx context.Context) error {
	v, err := spawnBaseline(ctx, b.cfg.Settings.ShellConcurrency, b.plan.baseline)
	if err != nil {
		return err
	}
	b.r.BaselineSpawnPerS = round(v, 0)
	b.say("B2 /bin/sh -c true, %d at once: %s/s", b.cfg.Settings.ShellConcurrency, num(v))
	return b.onCopy(ctx, "b2", templateDB, func(url string) error {
		r, err := b.cfg.Start(ctx, url, nil) // for its runtimes, configured as attune's
		if err != nil {
			return err
		}
		defer r.Stop()
		echo, _, err := r.DB.AutoCommit().Action(ctx, actionEcho)
		if err != nil {
			return err
		}
		v, err := runtimeBaseline(ctx, r.P.Runtimes, echo, b.cfg.Settings.ShellConcurrency, b.plan.baseline)
		if err != nil {
			return err
		}
		b.r.Details.EchoRuntimePerS = round(v, 0)
		b.say("B2' core.echo through attune's shell runtime alone, %d at once: %s/s", b.cfg.Settings.ShellConcurrency, num(v))
		return nil
	})
}

// noopThroughput is figure 1 with core.noop.
func (b *runner) noopThroughput(ctx context.Context) error {
	return b.onCopy(ctx, "noop_throughput", templateDB, func(url string) error {
		t, err := drainEvents(ctx, b.cl, b.cfg.Start, phaseDB("noop_throughput"), triggerNoop, b.plan.events)
		if err != nil {
			return err
		}
		b.r.Details.Noop, b.r.NoopExecPerS = t, round(t.PerS, 0)
		b.r.NoopCPUms, b.r.NoopStatements, b.r.NoopCommits, b.r.NoopRiverJobs = t.Cost.CPU, t.Cost.Statements, t.Cost.Commits, t.Cost.RiverJobs
		b.r.NoopExecutionHOTPct = t.Cost.HOTPct()
		b.say("noop pipeline: %s", t)
		return nil
	})
}

// shellThroughput is figure 1 with core.echo.
func (b *runner) shellThroughput(ctx context.Context) error {
	return b.onCopy(ctx, "shell_throughput", templateDB, func(url string) error {
		t, err := drainEvents(ctx, b.cl, b.cfg.Start, phaseDB("shell_throughput"), triggerShell, b.plan.shellEvents)
		if err != nil {
			return err
		}
		b.r.Details.Shell, b.r.ShellExecPerS = t, round(t.PerS, 0)
		b.r.ShellCPUms, b.r.ShellStatements, b.r.ShellCommits, b.r.ShellRiverJobs = t.Cost.CPU, t.Cost.Statements, t.Cost.Commits, t.Cost.RiverJobs
		b.r.ShellExecutionHOTPct = t.Cost.HOTPct()
		b.say("shell pipeline: %s", t)
		return nil
	})
}

// noopLatency is figure 2 with core.noop.
func (b *runner) noopLatency(ctx context.Context) error {
	return b.onCopy(ctx, "noop_latency", templateDB, func(url string) error {
		l, err := steadyLatency(ctx, b.cfg.Start, b.cl.postmaster, url, triggerNoop, b.plan.latencyRate, b.plan.latency)
		if err != nil {
			return err
		}
		b.r.Details.NoopLatency = l
		b.r.NoopLatencyMS, b.r.NoopStartLatencyMS = latencyOf(l.Terminal), latencyOf(l.Start)
		b.say("noop latency at %d events/s: %s", b.plan.latencyRate, l)
		return nil
	})
}

// shellLatency is figure 2 with core.echo.
func (b *runner) shellLatency(ctx context.Context) error {
	return b.onCopy(ctx, "shell_latency", templateDB, func(url string) error {
		l, err := steadyLatency(ctx, b.cfg.Start, b.cl.postmaster, url, triggerShell, b.plan.latencyRate, b.plan.latency)
		if err != nil {
			return err
		}
		b.r.Details.ShellLatency = l
		b.r.ShellLatencyMS = latencyOf(l.Terminal)
		b.say("shell latency at %d events/s: %s", b.plan.latencyRate, l)
		return nil
	})
}

// timers is figure 3.
func (b *runner) timers(ctx context.Context) error {
	return b.onCopy(ctx, "timers", templateDB, func(url string) error {
		t, err := timerPrecision(ctx, b.cfg.Start, url, b.plan.timers, b.plan.timerWindow)
		if err != nil {
			return err
		}
		b.r.Details.Timers = t
		b.r.TimerLatenessMS = Lateness{P50: round(t.Lateness.P50, 2), P99: round(t.Lateness.P99, 2), Max: round(t.Lateness.Max, 2)}
		b.r.TimerMissed, b.r.TimerDuplicates = t.Missed, t.Duplicates
		b.r.TimerCommittedMS = Lateness{P50: round(t.Committed.P50, 2), P99: round(t.Committed.P99, 2), Max: round(t.Committed.Max, 2)}
		b.say("timers: %d ticks of %d timers, lateness p50 %.1f ms, p99 %.1f ms (after each timer's first tick: p50 %.1f, p99 %.1f, max %.1f; fire job fetched p50 %.1f, p99 %.1f after its time; event committed p50 %.1f, p99 %.1f after its time), %d missed, %d duplicate",
			t.Fired, t.Timers, t.Lateness.P50, t.Lateness.P99, t.Steady.P50, t.Steady.P99, t.Steady.Max, t.Fetch.P50, t.Fetch.P99, t.Committed.P50, t.Committed.P99, t.Missed, t.Duplicates)
		return nil
	})
}

// policyAdmit is issue 12's figure: how soon a concurrency slot, once freed, runs its next waiter.
func (b *runner) policyAdmit(ctx context.Context) error {
	return b.onCopy(ctx, "policy_admit", templateDB, func(url string) error {
		p, err := policyAdmit(ctx, b.cfg.Start, url, b.plan.policyRuns)
		if err != nil {
			return err
		}
		b.r.Details.Policy = p
		b.r.PolicyAdmitMS = latencyOf(p.Admit)
		b.say("policy admission: %d executions of a threshold-1 policy in %.1f s; slot freed (holder's terminal commit, which also commits the waiter's dispatch) -> next waiter running: p50 %.1f ms, p99 %.1f ms, max %.1f (%d waiters)",
			p.Executions, p.Elapsed.Seconds(), p.Admit.P50, p.Admit.P99, p.Admit.Max, p.Admit.N)
		return nil
	})
}

// scaleOut is figures 4 and 5: the backlog worked by 1, 2 and 4 worker processes for the same
// window, and the peak RSS of the single one, which drains all of it.
func (b *runner) scaleOut(ctx context.Context) error {
	if _, err := b.cl.newDatabase(ctx, backlogDB, templateDB); err != nil {
		return err
	}
	if err := buildBacklog(ctx, b.cfg.Start, b.cl.url(backlogDB), b.plan.events); err != nil {
		return err
	}
	b.say("backlog of %d scheduled noop executions built", b.plan.events)
	b.r.ScaleoutNoopExecPerS, b.r.ScaleoutCPUms = map[string]float64{}, map[string]float64{}
	for _, n := range b.plan.replicas {
		err := b.onCopy(ctx, "scaleout_"+strconv.Itoa(n), backlogDB, func(url string) error {
			s, err := scaleOut(ctx, b.cfg.Start, b.cl.postmaster, b.cfg.Binary, url, n, b.plan.events, b.plan.scaleWindow, n == 1)
			if err != nil {
				return err
			}
			b.r.Details.Scale = append(b.r.Details.Scale, s)
			b.r.ScaleoutNoopExecPerS[strconv.Itoa(n)] = round(s.PerS, 0)
			b.r.ScaleoutCPUms[strconv.Itoa(n)] = round(s.Cost.Total(), 3)
			if n == 1 && len(s.PeakRSS) == 1 {
				b.r.WorkerPeakRSSMB = round(s.PeakRSS[0], 1)
			}
			b.say("scale-out, %d worker processes: %s executions/s over %s; peak RSS %s MB after %d executions; %s; CPU ms per execution %s",
				n, num(s.PerS), s.Window, mbList(s.PeakRSS), s.Drained, s.CPU, s.Cost)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return b.cl.dropDatabase(ctx, backlogDB)
}

// webhook is issue 9's webhook figures: signed deliveries acknowledged per second by the api
// role, their request -> 202 latency, and the same client loop against a bare net/http handler;
// and, to tell what limits the figure, the acknowledgements of a replica processing no events.
func (b *runner) webhook(ctx context.Context) error {
	var w webhookResult
	var err error
	if w.Baseline, err = httpBaseline(ctx, b.plan.webhooks); err != nil {
		return err
	}
	b.r.HTTPBaselineReqPerS = round(w.Baseline.PerS, 0)
	b.say("HTTP baseline: %d requests from %d clients to a bare net/http handler, %s/s", w.Baseline.N, webhookClients, num(w.Baseline.PerS))
	err = b.onCopy(ctx, "webhook_alone", templateDB, func(url string) error {
		w.Alone, _, err = webhookRate(ctx, b.cfg.Start, url, ackRoles, b.plan.webhooks, false)
		return err
	})
	if err != nil {
		return err
	}
	b.say("webhook, replica processing no events: %s/s acknowledged, 202 in p50 %.1f ms, p99 %.1f ms", num(w.Alone.PerS), w.Alone.Ack.P50, w.Alone.Ack.P99)
	return b.onCopy(ctx, "webhook", templateDB, func(url string) error {
		w.Webhook, w.Drained, err = webhookRate(ctx, b.cfg.Start, url, apiRoles, b.plan.webhooks, true)
		if err != nil {
			return err
		}
		b.r.Details.Webhook = w
		b.r.WebhookEventsPerS, b.r.WebhookAckMS = round(w.Webhook.PerS, 0), latencyOf(w.Webhook.Ack)
		b.say("webhook: %d signed deliveries from %d clients, %s/s acknowledged, 202 in p50 %.1f ms, p99 %.1f ms; their executions all terminal %.1f s after the first request",
			w.Webhook.N, webhookClients, num(w.Webhook.PerS), w.Webhook.Ack.P50, w.Webhook.Ack.P99, w.Drained.Seconds())
		return nil
	})
}

// apiRun is issue 9's API figure: POST /api/v1/executions of core.noop until it is terminal.
func (b *runner) apiRun(ctx context.Context) error {
	return b.onCopy(ctx, "api_run", templateDB, func(url string) error {
		a, err := apiRun(ctx, b.cfg.Start, url, b.plan.apiRuns)
		if err != nil {
			return err
		}
		b.r.Details.APIRun = a
		b.r.APIRunNoopMS = latencyOf(a.Terminal)
		b.say("api run: %d POST /api/v1/executions of core.noop one after the other, terminal in p50 %.1f ms, p99 %.1f ms (201 in p50 %.1f ms)",
			a.Terminal.N, a.Terminal.P50, a.Terminal.P99, a.Created.P50)
		return nil
	})
}

// workflowTransition is issue 11's transition figure: how soon a sequential workflow's next
// task is dispatched, and running, once the task before it ended.
func (b *runner) workflowTransition(ctx context.Context) error {
	return b.onCopy(ctx, "workflow_transition", templateDB, func(url string) error {
		w, err := workflowTransition(ctx, b.cfg.Start, url, b.plan.seqWorkflows)
		if err != nil {
			return err
		}
		b.r.Details.Transition = w
		b.r.WorkflowTransitionMS = latencyOf(w.Dispatch)
		b.r.WorkflowTransitionRunningMS = latencyOf(w.Running)
		b.say("workflow transitions: %d workflows of %d core.noop tasks one after the other (each in p50 %.0f ms); child terminal -> next child's dispatch committed p50 %.1f ms, p99 %.1f ms; -> next child running p50 %.1f ms, p99 %.1f ms (%d transitions, %d with the next child created in the terminal transaction)",
			w.Workflows, seqTasks, w.Whole.P50, w.Dispatch.P50, w.Dispatch.P99, w.Running.P50, w.Running.P99, w.Dispatch.N, w.SameTx)
		return nil
	})
}

// withItems is issue 11's with-items figure: one with-items task over many core.noop items,
// concurrency 50, start to end.
func (b *runner) withItems(ctx context.Context) error {
	return b.onCopy(ctx, "with_items", templateDB, func(url string) error {
		w, err := withItems(ctx, b.cfg.Start, url, b.plan.items)
		if err != nil {
			return err
		}
		b.r.WithItems = w
		if w.Items == 1000 {
			b.r.WithItems1000S = w.Seconds
		}
		b.say("with-items: %d core.noop items at concurrency %d in %.2f s (%s items/s)", w.Items, w.Concurrency, w.Seconds, num(w.ItemsPerS))
		return nil
	})
}
