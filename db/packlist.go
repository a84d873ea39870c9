package db

import (
	"context"
	"fmt"
	"time"

	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// PackSummary is one registered pack and how much it holds, as attune pack list shows it.
type PackSummary struct {
	Ref         string
	Label       string
	Description string
	Version     string
	Actions     int64
	Triggers    int64
	Rules       int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Packs lists the registered packs by ref, with their counts of actions, triggers and rules.
func (q *Queries) Packs(ctx context.Context) ([]PackSummary, error) {
	rows, err := q.q.PackListWithCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list packs: %w", err)
	}
	return mapSlice(rows, func(r dbsqlc.PackListWithCountsRow) PackSummary {
		return PackSummary{Ref: r.Ref, Label: r.Label, Description: r.Description, Version: r.Version,
			Actions: r.Actions, Triggers: r.Triggers, Rules: r.Rules, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	}), nil
}
