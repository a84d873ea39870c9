package jobs

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// FinishForTest ends execution id as completed in tx and announces it, as a worker's finish
// does: the workflow it belongs to advances in tx.
func (p *Pipeline) FinishForTest(ctx context.Context, tx pgx.Tx, id int64, from attune.ExecutionStatus) (attune.Execution, error) {
	q := db.WithTx(tx)
	x, err := q.ExecutionFinish(ctx, id, db.Finish{From: from, To: attune.StatusCompleted, Result: []byte(`{"exit_code":0,"succeeded":true,"stdout":"done\n"}`)})
	if err != nil {
		return x, err
	}
	return x, p.announceTerminal(ctx, tx, x)
}

// AdvanceAgainForTest advances x's workflow again, as a redelivered completion would.
func (p *Pipeline) AdvanceAgainForTest(ctx context.Context, x attune.Execution) error {
	return p.DB.InTx(ctx, func(q *db.Queries) error { return p.advanceParent(ctx, q.Tx(), x) })
}
