// Package workflows is the Orquesta workflow language as attune runs it: Parse reads a workflow
// definition (an orquesta action's entry point), Check finds what a parsed workflow can still get
// wrong, and Expr and Value evaluate its {{ }} and <% %> expressions against an Env. Which
// transitions fire, contexts, joins and scheduling belong to the conductor (jobs/), not here.
package workflows

import (
	"fmt"
	"strings"
	"time"
)

// Problem is one located complaint about a workflow definition.
type Problem struct {
	File      string
	Line, Col int
	Msg       string
}

// Error renders the problem as "file:line:col: msg", leaving out the line and column when
// they are unknown (0).
func (p Problem) Error() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
}

// Problems is every complaint about one workflow; it is an error listing them one per line.
type Problems []Problem

// Error lists every problem, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Workflow is one parsed workflow definition.
type Workflow struct {
	File        string
	Version     string
	Description string
	Input       []Input  // in declared order; a later default may read an earlier input via ctx()
	Vars        []Assign // in order
	Output      []Assign // in order; rendered even when the workflow fails
	Tasks       map[string]*Task
	Order       []string // task names in declaration order
}

// Input is one workflow input.
type Input struct {
	Name    string
	Default *Value // nil: required (no default)
}

// Assign is one name bound to a value: a var, an output or a publish.
type Assign struct {
	Name  string
	Value *Value
	Line  int
}

// JoinAll is Task.Join for `join: all`.
const JoinAll = -1

// Task is one task of a workflow.
type Task struct {
	Name      string
	Line, Col int
	Action    string            // "" : a router task (no action; the conductor completes it succeeded at once, result nil)
	Input     map[string]*Value // inline "action: ref k=v" parameters merged with `input:` (input wins)
	Delay     int               // seconds before the action is scheduled; 0 none
	Join      int               // 0: no join; JoinAll; N > 0
	With      *With             // nil: not a with-items task
	Retry     *Retry            // nil: no retry
	Next      []*Transition     // in declared order

	actionLine, actionCol int               // where the action ref is written
	inputPos              map[string][2]int // where each input is written: its key, or its k= inline
}

// With is a task's with-items.
type With struct {
	Items       *Expr    // evaluates to a list; with Vars, "x, y in <% zip(...) %>" form
	Vars        []string // the names of "x, y in ...": item(name) reads them; empty: item() is the element
	Concurrency *Value   // nil: all items at once; renders to a positive int

	concLine, concCol int
}

// Retry is a task's retry policy.
type Retry struct {
	Count int
	Delay int   // seconds
	When  *Expr // nil: retry when the task failed
}

// Transition is one entry of a task's `next`.
type Transition struct {
	Line    int
	When    *Expr    // nil: fires on any completion (success or failure)
	Publish []Assign // applied in order to the branch context
	Do      []string // task names, or the reserved words below

	col   int      // where the transition starts, with Line
	doPos [][2]int // line and column of each Do entry
}

// Reserved `do` targets.
const (
	DoContinue = "continue"
	DoFail     = "fail"
	DoNoop     = "noop"
	DoRetry    = "retry" // the task again: 3 retries, no delay
)

// Env is what an expression sees.
type Env struct {
	Ctx        map[string]any                                 // ctx() and ctx(name): the branch context
	Result     any                                            // result(): the task's result; with-items: the ordered list of item results
	TaskStatus string                                         // "succeeded" | "failed" | "cancelled" | "" : succeeded()/failed()/completed()
	Item       any                                            // item(); with With.Vars, a map[string]any by var name, read by item(name)
	Task       func(name string) (TaskState, bool)            // task(name); nil: task() is an error
	KV         func(scope, name string) (string, bool, error) // st2kv('system.x') and kv('system.x'); nil: an error
}

// TaskState is what task(name) gives an expression.
type TaskState struct {
	Status         string // "succeeded" | "failed" | "cancelled" | "running"
	Result         any
	StartTimestamp *time.Time
	EndTimestamp   *time.Time
}
