package attune

import "time"

// Output streams of an action process.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// OutputChunk is one stored batch of what an action printed on one stream while it ran. Chunks
// of one execution are numbered from 1 across both streams, in the order they were stored.
type OutputChunk struct {
	ExecutionID int64
	Seq         int64
	Stream      string // StreamStdout or StreamStderr
	Data        string // UTF-8, secrets replaced by "********"
	At          time.Time
}
