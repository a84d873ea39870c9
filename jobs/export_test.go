package jobs

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// FinishForTest ends execution id as completed in tx, as a worker's finish does, without
// announcing it yet.
func FinishForTest(ctx context.Context, tx pgx.Tx, id int64, from attune.ExecutionStatus) (attune.Execution, error) {
	return db.WithTx(tx).ExecutionFinish(ctx, id, db.Finish{From: from, To: attune.StatusCompleted,
		Result: []byte(`{"exit_code":0,"succeeded":true,"stdout":"done\n"}`)})
}

// AnnounceForTest announces x's terminal status in tx: its workflow advances in tx.
func (p *Pipeline) AnnounceForTest(ctx context.Context, tx pgx.Tx, x attune.Execution) error {
	return p.announceTerminal(ctx, tx, x)
}

// AdvanceAgainForTest advances x's workflow again, as a redelivered completion would.
func (p *Pipeline) AdvanceAgainForTest(ctx context.Context, x attune.Execution) error {
	return p.DB.InTx(ctx, func(q *db.Queries) error { return p.advanceParent(ctx, q.Tx(), x, false) })
}

// ChildPendingForTest runs the hook the inquiry work calls when x goes pending.
func (p *Pipeline) ChildPendingForTest(ctx context.Context, x attune.Execution) error {
	return p.DB.InTx(ctx, func(q *db.Queries) error { return p.workflowChildPending(ctx, q, x) })
}

// BatchPatienceForTest sets how long a step waits for a batch before it runs alone, so that a
// loaded test machine does not send every step off alone.
func (p *Pipeline) BatchPatienceForTest(d time.Duration) {
	p.initGroups()
	p.groups.events.patience, p.groups.dispatch.patience = d, d
}
