package rules

import (
	"encoding/json"
	"sync"
)

// CriteriaCache keeps each rule's compiled criteria, so an event is matched without compiling
// them again. An entry is keyed by rule id and is replaced when the rule's criteria change; a
// compile error is kept too, since compiling the same text fails the same way. The zero value is
// ready to use and safe for concurrent use.
type CriteriaCache struct {
	m sync.Map // int64 -> *cachedCriteria
}

type cachedCriteria struct {
	raw  string
	crit *Criteria
	err  error
}

// Get returns the compiled criteria of rule ruleID, whose criteria JSON is raw, compiling them
// when the cache holds none for this text.
func (c *CriteriaCache) Get(ruleID int64, raw json.RawMessage) (*Criteria, error) {
	if v, ok := c.m.Load(ruleID); ok {
		if e := v.(*cachedCriteria); e.raw == string(raw) {
			return e.crit, e.err
		}
	}
	crit, err := CompileCriteria(raw)
	c.m.Store(ruleID, &cachedCriteria{raw: string(raw), crit: crit, err: err})
	return crit, err
}
