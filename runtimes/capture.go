package runtimes

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// tailSize is how many bytes at the end of a stream a capture remembers beyond its limit, to
// find the stream's last line after truncation.
const tailSize = 64 << 10

// capture is an io.Writer that keeps the first limit bytes written to it and the last tailSize
// bytes, and counts the rest. It never fails and never blocks, so a reader copying a pipe into
// it drains the pipe however much the process writes.
type capture struct {
	limit int
	head  []byte // the first limit bytes
	tail  []byte // the last tailSize (up to 2*tailSize) bytes
	total int64  // bytes written
}

// newCapture returns a capture keeping limit bytes.
func newCapture(limit int) *capture {
	return &capture{limit: limit}
}

// Write records p; it always succeeds.
func (c *capture) Write(p []byte) (int, error) {
	c.total += int64(len(p))
	if room := c.limit - len(c.head); room > 0 {
		c.head = append(c.head, p[:min(room, len(p))]...)
	}
	if len(p) >= tailSize {
		c.tail = append(c.tail[:0], p[len(p)-tailSize:]...)
	} else {
		c.tail = append(c.tail, p...)
		if len(c.tail) > 2*tailSize {
			c.tail = append(c.tail[:0], c.tail[len(c.tail)-tailSize:]...)
		}
	}
	return len(p), nil
}

// truncated reports whether more than limit bytes were written.
func (c *capture) truncated() bool {
	return c.total > int64(c.limit)
}

// text returns what was kept: everything when not truncated, else the first limit bytes (less
// an incomplete trailing UTF-8 sequence) followed by "\n…[truncated N bytes]".
func (c *capture) text() string {
	if !c.truncated() {
		return string(c.head)
	}
	kept := TrimIncompleteRune(c.head)
	return fmt.Sprintf("%s\n…[truncated %d bytes]", kept, c.total-int64(len(kept)))
}

// lastLine returns the last non-empty line of everything written, trimmed of surrounding
// white space; "" when there is none or it was too long to remember whole.
func (c *capture) lastLine() string {
	if !c.truncated() {
		return lastNonEmptyLine(c.head, true)
	}
	return lastNonEmptyLine(c.tail, int64(len(c.tail)) == c.total)
}

// lastNonEmptyLine returns the last line of b that is not blank, trimmed of surrounding white
// space. complete says whether b starts at the beginning of its stream; when it does not, a line
// reaching back to b[0] may have lost its start and is not returned.
func lastNonEmptyLine(b []byte, complete bool) string {
	for end := len(b); end > 0; {
		start := bytes.LastIndexByte(b[:end], '\n') + 1
		if line := bytes.TrimSpace(b[start:end]); len(line) > 0 {
			if start == 0 && !complete {
				return ""
			}
			return string(line)
		}
		end = start - 1
	}
	return ""
}

// TrimIncompleteRune drops a UTF-8 sequence cut short at the end of b: what a cap or a pipe
// read split in two. Live output (jobs) holds it back until its rest arrives.
func TrimIncompleteRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			return b
		}
	}
	return b
}

// liveOutput is where a process's output is copied as it comes (Request.Stdout and Stderr).
type liveOutput struct {
	stdout, stderr io.Writer
}

// tee returns a writer that writes to c and then to extra, ignoring extra's errors, so live
// output never stops the capture; c itself when extra is nil.
func tee(c *capture, extra io.Writer) io.Writer {
	if extra == nil {
		return c
	}
	return teeWriter{c, extra}
}

type teeWriter struct {
	c     *capture
	extra io.Writer
}

func (t teeWriter) Write(p []byte) (int, error) {
	n, _ := t.c.Write(p)
	_, _ = t.extra.Write(p)
	return n, nil
}
