// Package schedule computes the fire times of the core timer triggers: core.intervaltimer,
// core.crontimer and core.datetimetimer.
//
// It is pure schedule math: no clock, no I/O. A timer belongs to one rule and is configured by
// that rule's trigger_params; Parse turns those into a Schedule, First gives the first fire time
// of a timer being enabled, and CatchUp gives the next fire time after a fire that ran late,
// counting the fires it stands in for. Callers pass the time in (attune's "inject time" habit).
package schedule
