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
// transaction, then records the outcome, announces it and completes its own job in one
// transaction.
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

	var x attune.Execution
	var action attune.Action
	var pack attune.Pack // python-script, local-shell-script: self.config, the pack's virtualenv
	var done bool
	err := p.DB.InTx(ctx, func(q *db.Queries) error {
		var err error
		x, err = q.ExecutionStart(ctx, id, p.Worker)
		if errors.Is(err, attune.ErrConflict) {
			done = true
			return w.alreadyClaimed(ctx, q, job)
		}
		if err != nil {
			return err
		}
		if action, err = w.action(ctx, q, x); err != nil {
			return err
		}
		if action.Runtime == attune.RuntimePythonScript || action.Runtime == attune.RuntimeShellScript {
			if pack, err = q.Pack(ctx, action.PackRef); err != nil {
				return fmt.Errorf("pack config of action %s: %w", action.Ref, err)
			}
		}
		_, err = p.River.InsertTx(ctx, q.Tx(), ExecutionStatusArgs{ExecutionID: id, Status: string(attune.StatusRunning)}, nil)
		return err
	})
	if err != nil || done {
		return err
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
	out.close() // the output is stored before the outcome, so followers see all of it
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
	return w.finish(ctx, job, res, log)
}

// finish records the outcome of a run, announces it and completes the job in one transaction.
// The run happened, so its outcome is recorded even when the job's context is done (shutdown),
// and a database that is briefly away (a restart) is waited for rather than losing the result:
// a lost result would leave the next delivery to call the execution abandoned.
func (w *DispatchWorker) finish(ctx context.Context, job *river.Job[ExecutionDispatchArgs], res runtimes.Result, log *slog.Logger) error {
	p := w.P
	id := job.Args.ExecutionID
	fctx := context.WithoutCancel(ctx)
	record := func() error {
		return p.DB.InTx(fctx, func(q *db.Queries) error {
			fx, err := q.ExecutionFinish(fctx, id, db.Finish{
				From: attune.StatusRunning, To: res.Status, Result: res.JSON(), Error: res.Error, Worker: p.Worker,
			})
			if errors.Is(err, attune.ErrConflict) {
				fx, err = w.finishCanceling(fctx, q, id, res)
			}
			if errors.Is(err, attune.ErrConflict) {
				log.Warn("execution changed while running; outcome not recorded", "status", res.Status)
				return completeTx(fctx, q, job)
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
			return completeTx(fctx, q, job)
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

// alreadyClaimed handles a dispatch whose execution is no longer scheduled. A first delivery
// that finds it claimed is a duplicate and does nothing. A retried or rescued delivery that finds
// it still running means the worker that claimed it was lost: the action is not started again,
// and the execution ends abandoned.
func (w *DispatchWorker) alreadyClaimed(ctx context.Context, q *db.Queries, job *river.Job[ExecutionDispatchArgs]) error {
	p := w.P
	x, err := q.Execution(ctx, job.Args.ExecutionID)
	if err != nil {
		return err
	}
	if (x.Status == attune.StatusRunning || x.Status == attune.StatusCanceling) && job.Attempt > 1 {
		reason := fmt.Sprintf("worker %s was lost while running the action (dispatch job %d rescued at attempt %s)",
			x.Worker, job.ID, strconv.Itoa(job.Attempt))
		fx, err := q.ExecutionFinish(ctx, x.ID, lostWorker(x, reason, p.Worker))
		if err != nil && !errors.Is(err, attune.ErrConflict) {
			return err
		}
		if err == nil {
			p.Log.Warn("execution ended: worker lost", "execution_id", x.ID, "status", fx.Status, "reason", reason)
			if err := p.announceTerminal(ctx, q.Tx(), fx); err != nil {
				return err
			}
		}
	} else {
		p.Log.Debug("dispatch already handled", "execution_id", x.ID, "status", x.Status)
	}
	return completeTx(ctx, q, job)
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

func (w *DispatchWorker) action(ctx context.Context, q *db.Queries, x attune.Execution) (attune.Action, error) {
	a, _, err := q.Action(ctx, x.ActionRef)
	if err != nil {
		return a, fmt.Errorf("execution %d: %w", x.ID, err)
	}
	// The runtime recorded on the execution is the one it was scheduled for, by name.
	a.Runtime = x.Runtime
	return a, nil
}

// announceTerminal inserts the status and completion jobs of a terminal transition.
// It also gives back the execution's concurrency slot, admitting the next waiter, in the same
// transaction: every path to a terminal status comes through here.
func (p *Pipeline) announceTerminal(ctx context.Context, tx pgx.Tx, x attune.Execution) error {
	if err := p.releaseSlot(ctx, db.WithTx(tx), x.ID); err != nil {
		return err
	}
	_, err := p.River.InsertManyTx(ctx, tx, []river.InsertManyParams{
		{Args: ExecutionStatusArgs{ExecutionID: x.ID, Status: string(x.Status)}},
		{Args: ExecutionCompleteArgs{ExecutionID: x.ID}},
	})
	if err != nil {
		return fmt.Errorf("announce execution %d %s: %w", x.ID, x.Status, err)
	}
	return nil
}
