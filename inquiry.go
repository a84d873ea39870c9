package attune

import (
	"errors"
	"time"
)

// InquiryStatus is the state of one inquiry: pending until someone answers it, it expires, or
// its execution is cancelled.
type InquiryStatus string

// Inquiry statuses.
const (
	InquiryPending   InquiryStatus = "pending"
	InquiryResponded InquiryStatus = "responded"
	InquiryExpired   InquiryStatus = "expired"
	InquiryCancelled InquiryStatus = "cancelled"
)

// InquiryStatuses lists every inquiry status.
var InquiryStatuses = []InquiryStatus{InquiryPending, InquiryResponded, InquiryExpired, InquiryCancelled}

// TriggerInquiry is the core trigger an event is emitted on when an inquiry is created, so a
// rule can tell someone that an answer is awaited.
const TriggerInquiry = "core.inquiry"

// Inquiry is a question a core.ask execution waits on, in status pending: its answer must match
// Schema, and completes the execution with result {"response": answer}.
type Inquiry struct {
	ID          int64          // the id of the core.ask execution
	Schema      map[string]any // a JSON Schema the response must match
	TTLMinutes  int            // 0: never expires
	Users       []string       // who may answer (API key names); empty: anyone
	Route       string         // a free label for rules on core.inquiry (e.g. a chat channel)
	Status      InquiryStatus
	Response    map[string]any // nil until answered
	RespondedBy string         // "api:<key name>" or "cli:<os user>"
	CreatedAt   time.Time
	ExpiresAt   *time.Time // nil when TTLMinutes is 0
	RespondedAt *time.Time
}

// ErrForbidden is returned, wrapped with detail, when who asks is known but not allowed: an API
// key not among an inquiry's users.
var ErrForbidden = errors.New("forbidden")
