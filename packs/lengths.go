package packs

import (
	"unicode/utf8"

	"github.com/attune-run/attune/internal/yamlsrc"
)

// Length limits of what a pack names and describes, checked when the pack is validated, so a
// value too long to index never reaches the database. Names and refs count characters;
// descriptions count bytes.
const (
	MaxPackRefLength     = 64   // a pack's ref
	MaxNameLength        = 128  // the name part of an action, trigger or rule ref
	MaxParamNameLength   = 64   // a parameter's name
	MaxLabelLength       = 256  // a label
	MaxDescriptionLength = 4096 // a description, in bytes
)

// clipAt is how much of a long value a problem quotes.
const clipAt = 40

// clip returns s, or its first characters and "…" when it is too long to quote whole in a
// message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= clipAt+8 {
		return s
	}
	return yamlsrc.Clip(s, clipAt)
}

// tooLong reports whether s has more than limit characters.
func tooLong(s string, limit int) bool {
	return len(s) > limit && utf8.RuneCountInString(s) > limit
}

// label returns key's string value, checking it against MaxLabelLength.
func (s scope) label(key string) string {
	v := s.str(key)
	if n := utf8.RuneCountInString(v); n > MaxLabelLength {
		s.errorf(key, "%s is %d characters long; labels are at most %d", s.name(key), n, MaxLabelLength)
	}
	return v
}

// description returns key's string value, checking it against MaxDescriptionLength.
func (s scope) description(key string) string {
	v := s.str(key)
	if len(v) > MaxDescriptionLength {
		s.errorf(key, "%s is %d bytes long; descriptions are at most %d", s.name(key), len(v), MaxDescriptionLength)
	}
	return v
}
