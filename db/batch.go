package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// Independent reads that a step needs together are pipelined: queued in one pgx.Batch, sent
// before any answer is read, so they cost one round trip. The statements are sqlc's (their SQL
// exported in dbsqlc/hot.go, and prepared on every connection); their rows are scanned by
// position into sqlc's row types, so a column added to the table reaches them as it reaches the
// generated methods (TestEventWithRulesMatchesSeparateReads).

// EventWithRules returns an event and the rules it is for, in one round trip: the enabled rule
// it targets when it names one (a timer's tick), else the enabled rules of its trigger, in id
// order. ErrNotFound when the event does not exist (pruned).
func (q *Queries) EventWithRules(ctx context.Context, id int64) (attune.Event, []attune.Rule, error) {
	var evs []dbsqlc.AttuneEvent // none when the event does not exist: not an error inside the batch
	var rows []dbsqlc.AttuneRule
	b := &pgx.Batch{}
	queueRows(b, dbsqlc.EventGetSQL, id, &evs)
	queueRows(b, dbsqlc.RuleListForEventSQL, id, &rows)
	if err := q.batch.SendBatch(ctx, b).Close(); err != nil {
		return attune.Event{}, nil, fmt.Errorf("event %d and its rules: %w", id, err)
	}
	if len(evs) == 0 {
		return attune.Event{}, nil, notFound(pgx.ErrNoRows, "event", id)
	}
	e, err := toEvent(evs[0])
	if err != nil {
		return attune.Event{}, nil, err
	}
	rules, err := mapRows(rows, toRule)
	if err != nil {
		return attune.Event{}, nil, fmt.Errorf("rules of event %d: %w", id, err)
	}
	return e, rules, nil
}

// ExecutionDetail is an execution with what `attune execution get` and GET
// /api/v1/executions/{id} show of it.
type ExecutionDetail struct {
	Execution attune.Execution
	History   []attune.Transition // its transitions, oldest first
	Attempts  []attune.Execution  // every attempt of it, first to last (itself among them)
}

// ExecutionDetail returns an execution, its history and its attempts, in one round trip.
// ErrNotFound when the execution does not exist.
func (q *Queries) ExecutionDetail(ctx context.Context, id int64) (ExecutionDetail, error) {
	var d ExecutionDetail
	var xs, attempts []dbsqlc.AttuneExecution
	var hist []dbsqlc.AttuneExecutionHistory
	b := &pgx.Batch{}
	queueRows(b, dbsqlc.ExecutionGetSQL, id, &xs)
	queueRows(b, dbsqlc.HistoryListSQL, id, &hist)
	queueRows(b, dbsqlc.ExecutionAttemptsOfSQL, id, &attempts)
	if err := q.batch.SendBatch(ctx, b).Close(); err != nil {
		return d, fmt.Errorf("execution %d with its history and attempts: %w", id, err)
	}
	if len(xs) == 0 {
		return d, notFound(pgx.ErrNoRows, "execution", id)
	}
	var err error
	if d.Execution, err = toExecution(xs[0]); err != nil {
		return d, err
	}
	d.History = mapSlice(hist, toTransition)
	if d.Attempts, err = mapRows(attempts, toExecution); err != nil {
		return d, fmt.Errorf("attempts of execution %d: %w", id, err)
	}
	return d, nil
}

// queueRows queues sql with arg on b; when the batch is read, dst gets its rows, scanned by
// position into T.
func queueRows[T any](b *pgx.Batch, sql string, arg any, dst *[]T) {
	b.Queue(sql, arg).Query(func(r pgx.Rows) (err error) {
		*dst, err = pgx.CollectRows(r, pgx.RowToStructByPos[T])
		return err
	})
}
