package db

import (
	"context"
	"fmt"

	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// ExecutionClaimMany is ExecutionClaim for several executions in one statement: each one still
// scheduled, whose action exists, is claimed by worker and returned by id. The others (claimed
// by an earlier delivery, finished, their action gone) are left as they are and missing from the
// map: ExecutionClaim of one of them says why.
func (q *Queries) ExecutionClaimMany(ctx context.Context, ids []int64, worker string) (map[int64]Claim, error) {
	rows, err := q.q.ExecutionStartMany(ctx, dbsqlc.ExecutionStartManyParams{Ids: ids, Worker: worker})
	if err != nil {
		return nil, fmt.Errorf("start executions %v: %w", ids, err)
	}
	claims := make(map[int64]Claim, len(rows))
	for _, r := range rows {
		c, err := toClaim(dbsqlc.ExecutionStartRow(r))
		if err != nil {
			return nil, err
		}
		claims[c.Execution.ID] = c
	}
	return claims, nil
}

// toClaim converts a claim's row.
func toClaim(r dbsqlc.ExecutionStartRow) (Claim, error) {
	var c Claim
	var err error
	if c.Execution, err = toExecution(claimedExecution(r)); err != nil {
		return Claim{}, err
	}
	if c.Action, err = toAction(r.AttuneAction); err != nil {
		return Claim{}, err
	}
	if c.Pack, err = toPack(r.AttunePack); err != nil {
		return Claim{}, err
	}
	c.Action.Runtime = c.Execution.Runtime
	return c, nil
}
