// Package bench measures attune side by side with what it is built on, in one run on one
// PostgreSQL cluster: raw River draining no-op jobs (B1), raw process spawn (B2) and single-row
// insert transactions (B3), then attune's pipeline throughput, latency, timer precision,
// scale-out over worker replica processes and a worker's peak memory. `attune bench` runs it
// and prints one table; the same figures go to JSON under stable keys, so runs can be compared
// over time.
//
// Every phase runs on its own database, copied from a migrated template, so leftovers of one
// phase (the status and completion jobs a drained backlog leaves behind, say) never slow the
// next. Times that span processes are PostgreSQL commit timestamps (track_commit_timestamp),
// read from the rows themselves: "event committed" is the commit time of the event's
// transaction, "execution terminal" the commit time of the transaction that last wrote the
// execution row.
package bench
