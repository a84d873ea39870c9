package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/runtimes"
)

// DispatchWorker runs executions. It claims an execution with a compare-and-set from scheduled
// to running (so a redelivered job never runs the action again), runs the action outside any
// transaction, then records the outcome and announces it in one transaction. An inline runtime's
// action (core.noop) is run, recorded and announced in the claim's transaction instead. River's batched
// completer finishes the job: a redelivery finds the execution claimed or finished and does
// nothing (alreadyClaimed).
type DispatchWorker struct {
	river.WorkerDefaults[ExecutionDispatchArgs]
	P *Pipeline
}

// Timeout is River's job timeout for a dispatch: just inside the rescue window, so a run that
// outlives every action timeout is cancelled before River's rescuer could hand it elsewhere.
func (w *DispatchWorker) Timeout(*river.Job[ExecutionDispatchArgs]) time.Duration {
	return w.P.JobTimeout()
}

func (w *DispatchWorker) Work(ctx context.Context, job *river.Job[ExecutionDispatchArgs]) error {
	p := w.P
	id := job.Args.ExecutionID
	log := p.Log.With("execution_id", id)

	var c db.Claim
	var done bool
	step := func(q *db.Queries, pre any) error {
		var err error
		done = false
		c, err = claim(ctx, q, pre, id, p.Worker)
		if errors.Is(err, attune.ErrConflict) {
			done = true
			return w.alreadyClaimed(ctx, q, job)
		}
		if err == nil && c.Execution.Runtime == attune.RuntimeInquirer { // core.ask: no worker waits for the answer
			done = true
			return p.ask(ctx, q, c.Execution)
		}
		if err == nil && inline(c.Execution.Runtime) {
			done = true
			return w.runInline(ctx, q, c, log)
		}
		return err
	}
	var err error
	if job.Attempt <= 1 { // a first delivery shares its transaction (group commit); a later one runs alone
		err = p.dispatchGroup().inTxKeyed(ctx, id, step)
	} else {
		err = p.DB.InTx(ctx, func(q *db.Queries) error { return step(q, nil) })
	}
	if err != nil || done {
		return err
	}
	x, action := c.Execution, c.Action
	var pack attune.Pack // python-script, local-shell-script: self.config (sealed values too), the pack's virtualenv
	if action.Runtime == attune.RuntimePythonScript || action.Runtime == attune.RuntimeShellScript {
		pack = c.Pack
	}
	log.Info("execution started", "action", x.ActionRef, "runtime", x.Runtime)

	// Secret parameters are opened only here, delivered on stdin only, and scrubbed out of the
	// result before it is stored.
	packConfig, configSecrets, runErr := p.openPackConfig(pack)
	params, scrubber, err := p.runParameters(x, configSecrets)
	runErr = errors.Join(runErr, err)
	// A cancel request (WatchCancels) ends runCtx; the job's own ctx ends only on shutdown.
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	defer p.running.add(id, stopRun)()
	out := newOutputRecorder(ctx, p.DB, log, id, p.OutputCap, scrubber)
	var res runtimes.Result
	if runErr == nil {
		res, runErr = p.Runtimes.Run(runCtx, runtimes.Request{
			ExecutionID:       id,
			Action:            action,
			Parameters:        params,
			ParameterFormat:   action.ParameterFormat,
			ParameterDelivery: action.ParameterDelivery,
			Timeout:           time.Duration(x.TimeoutSec) * time.Second,
			PackConfig:        packConfig,
			PackRequirements:  pack.Requirements,
			Datastore:         p.datastoreFor(action),
			Env:               map[string]string{"ATTUNE_WORKER": p.Worker},
			Stdout:            out.Stdout(),
			Stderr:            out.Stderr(),
		})
	}
	tail := out.close() // stored with the outcome, so followers see all of the output
	if runErr != nil {
		res = runtimes.Result{Status: attune.StatusFailed, ExitCode: -1, Error: "prepare execution: " + runErr.Error()}
	}
	res = scrub(res, scrubber)
	if res.Status == attune.StatusCancelled && ctx.Err() != nil {
		// The job's context ends only when this replica stops (or River's job timeout fires):
		// the action was killed, not finished. Say so; a retry policy may run it again.
		res.Status = attune.StatusAbandoned
		res.Error = fmt.Sprintf("worker %s shut down before the action finished (%v)", p.Worker, context.Cause(ctx))
	}
	return w.finish(ctx, job, res, tail, log)
}

// claim is the claim of execution id: the one its batch made ahead (pre), or its own.
func claim(ctx context.Context, q *db.Queries, pre any, id int64, worker string) (db.Claim, error) {
	if c, ok := pre.(db.Claim); ok {
		return c, nil
	}
	return q.ExecutionClaim(ctx, id, worker)
}

// inline reports whether actions of a runtime run in the transaction that claims them: in-process
// runtimes that cannot block (core.noop). Their claim, run, outcome and announcement commit
// together, so nobody sees them running, and a transaction that fails leaves the execution
// scheduled for the job's next delivery, the run having changed nothing.
func inline(runtime string) bool { return runtime == attune.RuntimeNoop }

// runInline runs a claimed execution of an inline runtime and records its outcome and announces
// it, in the claim's transaction. A job whose context ends meanwhile returns its error, so the
// transaction rolls back and the next delivery runs the execution.
func (w *DispatchWorker) runInline(ctx context.Context, q *db.Queries, c db.Claim, log *slog.Logger) error {
	p, x := w.P, c.Execution
	params, scrubber, err := p.runParameters(x, nil)
	var res runtimes.Result
	if err == nil {
		res, err = p.Runtimes.Run(ctx, runtimes.Request{
			ExecutionID: x.ID, Action: c.Action, Parameters: params,
			ParameterFormat: c.Action.ParameterFormat, ParameterDelivery: c.Action.ParameterDelivery,
			Timeout: time.Duration(x.TimeoutSec) * time.Second,
		})
	}
	if ctx.Err() != nil {
		return fmt.Errorf("run execution %d: %w", x.ID, context.Cause(ctx))
	}
	if err != nil {
		res = runtimes.Result{Status: attune.StatusFailed, ExitCode: -1, Error: "prepare execution: " + err.Error()}
	}
	res = scrub(res, scrubber)
	fx, err := q.ExecutionFinish(ctx, x.ID, db.Finish{
		From: attune.StatusRunning, To: res.Status, Result: res.JSON(), Error: res.Error, Worker: p.Worker,
	})
	if err != nil {
		return err // the claim holds the row: no one else moved it
	}
	if err := p.announceTerminal(ctx, q.Tx(), fx); err != nil {
		return err
	}
	log.Info("execution finished", "action", fx.ActionRef, "runtime", fx.Runtime, "status", fx.Status, "inline", true)
	return nil
}

// finish records the outcome of a run, with the rest of its output (tail), and announces it in
// one transaction.
// The run happened, so its outcome is recorded even when the job's context is done (shutdown),
// and a database that is briefly away (a restart) is waited for rather than losing the result:
// a lost result would leave the next delivery to call the execution abandoned.
func (w *DispatchWorker) finish(ctx context.Context, job *river.Job[ExecutionDispatchArgs], res runtimes.Result, tail outputTail, log *slog.Logger) error {
	p := w.P
	id := job.Args.ExecutionID
	fctx := context.WithoutCancel(ctx)
	record := func() error {
		return p.dispatchGroup().InTx(fctx, func(q *db.Queries) error {
			if err := tail.store(fctx, q); err != nil {
				return err
			}
			fx, err := q.ExecutionFinish(fctx, id, db.Finish{
				From: attune.StatusRunning, To: res.Status, Result: res.JSON(), Error: res.Error, Worker: p.Worker,
			})
			if errors.Is(err, attune.ErrConflict) {
				fx, err = w.finishCanceling(fctx, q, id, res)
			}
			if errors.Is(err, attune.ErrConflict) {
				log.Warn("execution changed while running; outcome not recorded", "status", res.Status)
				return nil
			}
			if err != nil {
				return err
			}
			if err := p.announceTerminal(fctx, q.Tx(), fx); err != nil {
				return err
			}
			attrs := []any{"action", fx.ActionRef, "status", fx.Status, "duration_ms", res.Duration.Milliseconds()}
			if fx.Error != "" {
				attrs = append(attrs, "error", fx.Error)
			}
			log.Info("execution finished", attrs...)
			return nil
		})
	}
	wait := 100 * time.Millisecond
	deadline := time.Now().Add(finishPatience)
	for {
		err := record()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		log.Warn("recording the outcome failed; retrying", "error", err, "retry_in", wait)
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// finishCanceling records the outcome of a run that someone asked to cancel while it ran
// (status canceling): cancelled, with who asked as the error, when the action was stopped; the
// action's own outcome when it ended before the request reached it. ErrConflict when the
// execution is not canceling either.
func (w *DispatchWorker) finishCanceling(ctx context.Context, q *db.Queries, id int64, res runtimes.Result) (attune.Execution, error) {
	cur, err := q.Execution(ctx, id)
	if err != nil {
		return cur, err
	}
	if cur.Status != attune.StatusCanceling {
		return cur, fmt.Errorf("finish execution %d: it is %s: %w", id, cur.Status, attune.ErrConflict)
	}
	to, msg := res.Status, res.Error
	if to == attune.StatusCancelled || to == attune.StatusAbandoned {
		to, msg = attune.StatusCancelled, cur.Error
	}
	return q.ExecutionFinish(ctx, id, db.Finish{
		From: attune.StatusCanceling, To: to, Result: res.JSON(), Error: msg, Worker: w.P.Worker,
	})
}

// finishPatience is how long a worker keeps trying to record an outcome before it gives up and
// leaves the execution to be declared abandoned.
const finishPatience = 2 * time.Minute

// alreadyClaimed handles a dispatch whose execution could not be claimed. A first delivery
// that finds it claimed is a duplicate and does nothing. A retried or rescued delivery that finds
// it still running means the worker that claimed it was lost: the action is not started again,
// and the execution ends abandoned. One still scheduled has lost its action (the pack was
// registered again without it): it ends failed, saying so.
func (w *DispatchWorker) alreadyClaimed(ctx context.Context, q *db.Queries, job *river.Job[ExecutionDispatchArgs]) error {
	p := w.P
	x, err := q.Execution(ctx, job.Args.ExecutionID)
	if errors.Is(err, attune.ErrNotFound) {
		return nil // pruned
	}
	if err != nil {
		return err
	}
	var f db.Finish
	switch {
	case x.Status == attune.StatusScheduled:
		f = db.Finish{From: x.Status, To: attune.StatusFailed, Worker: p.Worker,
			Error: fmt.Sprintf("action %s no longer exists: register its pack again with the action, or re-run the execution with another", x.ActionRef)}
	case (x.Status == attune.StatusRunning || x.Status == attune.StatusCanceling) && job.Attempt > 1:
		reason := fmt.Sprintf("worker %s was lost while running the action (dispatch job %d rescued at attempt %s)",
			x.Worker, job.ID, strconv.Itoa(job.Attempt))
		f = lostWorker(x, reason, p.Worker)
	default:
		p.Log.Debug("dispatch already handled", "execution_id", x.ID, "status", x.Status)
		return nil
	}
	fx, err := q.ExecutionFinish(ctx, x.ID, f)
	if errors.Is(err, attune.ErrConflict) {
		return nil // it moved on meanwhile: whoever moved it announces it
	}
	if err != nil {
		return err
	}
	p.Log.Warn("execution ended without running", "execution_id", x.ID, "status", fx.Status, "reason", fx.Error)
	return p.announceTerminal(ctx, q.Tx(), fx)
}

// lostWorker is the outcome of an execution whose worker was lost: abandoned when it was
// running (a retry policy may run it again), cancelled when someone had asked to cancel it (the
// action died with its worker, as asked).
func lostWorker(x attune.Execution, reason, worker string) db.Finish {
	if x.Status == attune.StatusCanceling {
		return db.Finish{From: x.Status, To: attune.StatusCancelled, Error: x.Error + "; " + reason, Worker: worker}
	}
	return db.Finish{From: x.Status, To: attune.StatusAbandoned, Error: reason, Worker: worker}
}

// announceTerminal follows a terminal transition up, in its transaction: it gives back the
// execution's concurrency slot, admitting the next waiters, inserts a status job when an enabled
// rule listens on core.actiontrigger (the job records the event), and a completion job when
// the action's retry policy asks for another attempt. Every path to a terminal status comes
// through here; live watchers hear of the transition from the NOTIFY sent by the status change
// itself.
func (p *Pipeline) announceTerminal(ctx context.Context, tx pgx.Tx, x attune.Execution) error {
	q := db.WithTx(tx)
	f, err := q.ExecutionTerminalFollowUps(ctx, x, attune.TriggerAction)
	if err != nil {
		return err
	}
	if f.Released {
		if err := p.releaseSlot(ctx, q, f.Slot); err != nil {
			return err
		}
	}
	var next []river.InsertManyParams
	if f.Listened {
		next = append(next, river.InsertManyParams{Args: ExecutionStatusArgs{ExecutionID: x.ID, Status: string(x.Status)}})
	}
	_, retry := f.Retry.Next(x.Attempt, x.Status)
	if retry {
		next = append(next, river.InsertManyParams{Args: ExecutionCompleteArgs{ExecutionID: x.ID}})
	}
	if len(next) > 0 {
		if _, err := p.River.InsertManyTx(ctx, tx, next); err != nil {
			return fmt.Errorf("announce execution %d %s: %w", x.ID, x.Status, err)
		}
	}
	if x.Parent != nil { // a workflow's task: advance the workflow in this transaction
		return p.advanceParent(ctx, tx, x, retry)
	}
	return nil
}
