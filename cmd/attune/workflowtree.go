package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// taskNode is one task instance of a workflow as `attune execution get` shows it.
type taskNode struct {
	Task       string      `json:"task"`
	Route      int         `json:"route"` // which time the task was reached (0, 1, ...)
	Status     string      `json:"status"`
	Attempts   int         `json:"attempts"` // runs of its action, retries included
	Items      *itemCounts `json:"items,omitempty"`
	StartedAt  *time.Time  `json:"started_at"`
	FinishedAt *time.Time  `json:"finished_at"`
	Error      string      `json:"error,omitempty"`
	Executions []int64     `json:"executions"`      // its child executions, oldest first
	Tasks      []taskNode  `json:"tasks,omitempty"` // a child workflow's own tasks
}

// itemCounts summarises a with-items task.
type itemCounts struct {
	Total       int   `json:"total"`
	Started     int   `json:"started"`
	Succeeded   int   `json:"succeeded"`
	Failed      int   `json:"failed"`
	FailedItems []int `json:"failed_items,omitempty"`
}

// maxTreeDepth bounds how deep nested workflows are shown.
const maxTreeDepth = 8

// workflowTree reads the task instances of workflow id, with child workflows' tasks nested.
func workflowTree(ctx context.Context, q *db.Queries, id int64, depth int) ([]taskNode, error) {
	ts, err := q.WorkflowTasks(ctx, id)
	if err != nil {
		return nil, err
	}
	kids, err := q.WorkflowChildren(ctx, id)
	if err != nil {
		return nil, err
	}
	nodes := make([]taskNode, 0, len(ts))
	for _, t := range ts {
		n := taskNode{Task: t.Task, Route: t.Route, Status: t.State, StartedAt: t.StartedAt, FinishedAt: t.FinishedAt,
			Error: t.Error, Executions: []int64{}}
		var last *attune.Execution
		failed := map[int]bool{}
		done := map[int]bool{}
		for i, k := range kids {
			if k.Parent.Task != t.Task || k.Parent.Route != t.Route {
				continue
			}
			n.Executions = append(n.Executions, k.ID)
			n.Attempts++
			last = &kids[i]
			if t.Items != nil && k.Parent.Retry == t.Retry && k.Status.Terminal() {
				done[k.Parent.Item] = true
				failed[k.Parent.Item] = k.Status != attune.StatusCompleted
			}
		}
		if t.Items != nil {
			c := &itemCounts{Total: len(t.Items), Started: t.NextItem}
			for item := range done {
				if failed[item] {
					c.Failed++
					c.FailedItems = append(c.FailedItems, item)
				} else {
					c.Succeeded++
				}
			}
			slices.Sort(c.FailedItems)
			n.Items = c
			n.Attempts = t.Retry + 1
		}
		if last != nil && last.Runtime == attune.RuntimeOrquesta && t.Items == nil && depth < maxTreeDepth {
			if n.Tasks, err = workflowTree(ctx, q, last.ID, depth+1); err != nil {
				return nil, err
			}
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// printTree writes a workflow's tasks as an indented table.
func printTree(w io.Writer, nodes []taskNode) error {
	var rows [][]string
	var walk func(ns []taskNode, depth int)
	walk = func(ns []taskNode, depth int) {
		for _, n := range ns {
			name := strings.Repeat("  ", depth+1) + n.Task
			if n.Route > 0 {
				name += "#" + strconv.Itoa(n.Route)
			}
			items := "-"
			if c := n.Items; c != nil {
				items = fmt.Sprintf("%d/%d done", c.Succeeded+c.Failed, c.Total)
				if c.Failed > 0 {
					parts := make([]string, len(c.FailedItems))
					for i, it := range c.FailedItems {
						parts[i] = strconv.Itoa(it)
					}
					items += ", failed: " + strings.Join(parts, ",")
				}
			}
			rows = append(rows, []string{name, n.Status, strconv.Itoa(n.Attempts), items,
				fmtDuration(n.StartedAt, n.FinishedAt), clip(orDash(n.Error), 60)})
			walk(n.Tasks, depth+1)
		}
	}
	walk(nodes, 0)
	fmt.Fprintln(w, "tasks:")
	return table(w, []string{"  TASK", "STATUS", "ATTEMPTS", "ITEMS", "DURATION", "ERROR"}, rows)
}
