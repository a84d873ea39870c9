package attune

import "time"

// MatchOutcome is what one rule made of one event.
type MatchOutcome string

// Match outcomes.
const (
	// OutcomeMatched: the criteria held; the rule's enforcement says what happened next.
	OutcomeMatched MatchOutcome = "matched"
	// OutcomeNotMatched: a criterion failed; the reason names it and the value it saw.
	OutcomeNotMatched MatchOutcome = "not_matched"
	// OutcomeError: the criteria could not be evaluated; the reason says why.
	OutcomeError MatchOutcome = "error"
)

// RuleOutcome records, for one event, whether one rule considered for it matched and why not.
// It answers "why did my rule not fire?".
type RuleOutcome struct {
	ID        int64
	EventID   int64
	RuleID    *int64 // nil once the rule is deleted
	RuleRef   string
	Outcome   MatchOutcome
	Reason    string // empty for a match
	CreatedAt time.Time
}
