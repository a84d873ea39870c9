package httpapi

import (
	"encoding/json"
	"maps"
	"time"

	"github.com/attune-run/attune"
)

// executionView is an execution as the API shows it. Secret parameters read "********": they
// are stored that way.
type executionView struct {
	ID            int64           `json:"id"`
	ActionRef     string          `json:"action_ref"`
	Runtime       string          `json:"runtime"`
	EnforcementID *int64          `json:"enforcement_id"`
	Attempt       int             `json:"attempt"`
	OriginalID    *int64          `json:"original_id"`
	RerunOf       *int64          `json:"rerun_of"`
	Status        string          `json:"status"`
	Parameters    map[string]any  `json:"parameters"`
	Result        json.RawMessage `json:"result"`
	Error         string          `json:"error"`
	Worker        string          `json:"worker"`
	TimeoutSec    int             `json:"timeout_seconds"`
	CreatedAt     time.Time       `json:"created_at"`
	ScheduledAt   *time.Time      `json:"scheduled_at"`
	StartedAt     *time.Time      `json:"started_at"`
	FinishedAt    *time.Time      `json:"finished_at"`
	Parent        *parentView     `json:"parent,omitempty"` // a workflow's task
}

// parentView places a workflow's child execution.
type parentView struct {
	ID    int64  `json:"id"`
	Task  string `json:"task"`
	Route int    `json:"route"`
	Item  int    `json:"item"`
	Retry int    `json:"retry"`
}

func toExecutionView(x attune.Execution) executionView {
	v := executionView{ID: x.ID, ActionRef: x.ActionRef, Runtime: x.Runtime, EnforcementID: x.EnforcementID,
		Attempt: x.Attempt, OriginalID: x.OriginalID, RerunOf: x.RerunOf, Status: string(x.Status), Parameters: x.Parameters,
		Result: x.Result, Error: x.Error, Worker: x.Worker, TimeoutSec: x.TimeoutSec, CreatedAt: x.CreatedAt,
		ScheduledAt: x.ScheduledAt, StartedAt: x.StartedAt, FinishedAt: x.FinishedAt}
	if len(v.Result) == 0 {
		v.Result = json.RawMessage("null")
	}
	if t := x.Parent; t != nil {
		v.Parent = &parentView{ID: t.ParentID, Task: t.Task, Route: t.Route, Item: t.Item, Retry: t.Retry}
	}
	if v.Parameters == nil {
		v.Parameters = map[string]any{}
	}
	return v
}

// transitionView is one status transition.
type transitionView struct {
	From   *string   `json:"from"`
	To     string    `json:"to"`
	At     time.Time `json:"at"`
	Worker string    `json:"worker"`
	Reason string    `json:"reason"`
}

func toTransitionView(t attune.Transition) transitionView {
	v := transitionView{To: string(t.To), At: t.At, Worker: t.Worker, Reason: t.Reason}
	if t.From != "" {
		f := string(t.From)
		v.From = &f
	}
	return v
}

// eventView is an event.
type eventView struct {
	ID         int64          `json:"id"`
	TriggerRef string         `json:"trigger_ref"`
	RuleID     *int64         `json:"rule_id"`
	Payload    map[string]any `json:"payload"`
	CreatedAt  time.Time      `json:"created_at"`
}

func toEventView(e attune.Event) eventView {
	v := eventView{ID: e.ID, TriggerRef: e.TriggerRef, RuleID: e.RuleID, Payload: e.Payload, CreatedAt: e.CreatedAt}
	if v.Payload == nil {
		v.Payload = map[string]any{}
	}
	return v
}

// ruleView is a rule.
type ruleView struct {
	Ref           string          `json:"ref"`
	PackRef       string          `json:"pack_ref"`
	Label         string          `json:"label"`
	Description   string          `json:"description"`
	Enabled       bool            `json:"enabled"`
	TriggerRef    string          `json:"trigger_ref"`
	TriggerParams map[string]any  `json:"trigger_params"`
	ActionRef     string          `json:"action_ref"`
	ActionParams  map[string]any  `json:"action_params"`
	Criteria      json.RawMessage `json:"criteria"`
}

func toRuleView(r attune.Rule) ruleView {
	v := ruleView{Ref: r.Ref, PackRef: r.PackRef, Label: r.Label, Description: r.Description, Enabled: r.Enabled,
		TriggerRef: r.TriggerRef, TriggerParams: r.TriggerParams, ActionRef: r.ActionRef,
		ActionParams: r.ActionParams, Criteria: r.Criteria}
	if len(v.Criteria) == 0 {
		v.Criteria = json.RawMessage("null")
	}
	if v.TriggerParams == nil {
		v.TriggerParams = map[string]any{}
	}
	if v.ActionParams == nil {
		v.ActionParams = map[string]any{}
	}
	return v
}

// actionView is an action, without its entry point's content.
type actionView struct {
	Ref               string             `json:"ref"`
	PackRef           string             `json:"pack_ref"`
	Label             string             `json:"label"`
	Description       string             `json:"description"`
	Runtime           string             `json:"runtime"`
	EntryPoint        string             `json:"entry_point"`
	TimeoutSec        int                `json:"timeout_seconds"`
	Parameters        attune.ParamSchema `json:"parameters,omitempty"`
	OutputFormat      string             `json:"output_format,omitempty"`
	ParameterFormat   string             `json:"parameter_format,omitempty"`
	ParameterDelivery string             `json:"parameter_delivery,omitempty"`
}

func toActionView(a attune.Action) actionView {
	v := actionView{Ref: a.Ref, PackRef: a.PackRef, Label: a.Label, Description: a.Description, Runtime: a.Runtime,
		EntryPoint: a.EntryPoint, TimeoutSec: a.TimeoutSec, Parameters: maps.Clone(a.Parameters), OutputFormat: a.OutputFormat,
		ParameterFormat: a.ParameterFormat, ParameterDelivery: a.ParameterDelivery}
	for name, p := range v.Parameters { // a secret's default is a secret too
		if p.Secret && p.Default != nil {
			p.Default = "********"
			v.Parameters[name] = p
		}
	}
	if v.TimeoutSec == 0 {
		v.TimeoutSec = attune.DefaultActionTimeoutSec
	}
	return v
}

// packView is a pack.
type packView struct {
	Ref         string `json:"ref"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Version     string `json:"version"`
}

// page is one page of a list, newest first; NextAfter is the cursor of the next page (null on
// the last).
type page[T any] struct {
	Items     []T    `json:"items"`
	NextAfter *int64 `json:"next_after"`
}
