package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// searchSpec is a compiled search criterion: nested criteria applied to every item of a list
// field. With condition any, the criterion passes when some item passes all of them; with all,
// when every item does (an empty list passes all and fails any, as in StackStorm).
type searchSpec struct {
	all   bool
	items []condition // AND of all, fields relative to the item ("item.name" or "name")
}

// compileSearch compiles a search criterion's condition ("any" or "all") and its pattern: nested
// criteria in the map form ({"item.name": {"type": …, "pattern": …}}) or the list form
// ([{"field": "item.name", "operator": …, "value": …}]).
func compileSearch(patternRaw, condRaw json.RawMessage, at location) (*searchSpec, error) {
	if condRaw == nil {
		return nil, invalid(`%s: required by operator "search": "any" (some item matches) or "all" (every item matches)`, at.condition)
	}
	var cond string
	if err := json.Unmarshal(condRaw, &cond); err != nil || (cond != "any" && cond != "all") {
		return nil, invalid(`%s: must be "any" or "all"; got %s`, at.condition, clip(condRaw))
	}
	if patternRaw == nil {
		return nil, invalid(`%s: required by operator "search": the criteria each item is matched against, e.g. {"item.name": {"type": "equals", "pattern": "x"}}`, at.value)
	}
	sc := scope{at: at.value, aliases: itemAliases}
	var items []condition
	var err error
	switch raw := bytes.TrimSpace(patternRaw); {
	case bytes.HasPrefix(raw, []byte("{")):
		keys, values, oerr := orderedObject(raw, sc.at)
		if oerr != nil {
			return nil, oerr
		}
		items, err = compileMap(keys, values, sc)
	case bytes.HasPrefix(raw, []byte("[")):
		items, err = compileList(raw, sc)
	default:
		return nil, invalid("%s: must be an object or a list of criteria for each item; got %s", at.value, clip(raw))
	}
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, invalid(`%s: is empty; name at least one criterion for the items, e.g. {"item.name": {"type": "equals", "pattern": "x"}}`, at.value)
	}
	return &searchSpec{all: cond == "all", items: items}, nil
}

// match applies the nested criteria to the items of have and explains a miss.
func (s *searchSpec) match(cond condition, have any, present bool, now time.Time) (reason string, ok bool) {
	head := fmt.Sprintf("%s: %s %s", cond.field, cond.opName, s.condition())
	list, isList := have.([]any)
	switch {
	case !present:
		return head + ": missing", false
	case !isList:
		return fmt.Sprintf("%s: saw %s, not a list", head, brief(have)), false
	case len(list) == 0:
		return head + ": the list is empty", s.all
	}
	var firstMiss string
	for i, item := range list {
		why, pass := matchAll(s.items, item, now)
		switch {
		case pass && !s.all:
			return "", true
		case !pass && s.all:
			return fmt.Sprintf("%s: item %d of %d does not match: %s", head, i, len(list), why), false
		case !pass && firstMiss == "":
			firstMiss = fmt.Sprintf("item %d: %s", i, why)
		}
	}
	if s.all {
		return "", true
	}
	return fmt.Sprintf("%s: none of %d items matches; %s", head, len(list), firstMiss), false
}

func (s *searchSpec) condition() string {
	if s.all {
		return "all"
	}
	return "any"
}

// matchAll tests conditions, AND of all, against v and explains the first miss.
func matchAll(conds []condition, v any, now time.Time) (reason string, ok bool) {
	for _, c := range conds {
		if reason, ok := c.match(v, now); !ok {
			return reason, false
		}
	}
	return "", true
}
