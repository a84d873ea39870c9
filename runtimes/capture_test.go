package runtimes

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCapture(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		limit     int
		writes    []string
		text      string
		truncated bool
		lastLine  string
	}{
		{"Empty", 10, nil, "", false, ""},
		{"UnderLimit", 10, []string{"a\n", "b\n"}, "a\nb\n", false, "b"},
		{"ExactlyAtLimit", 4, []string{"ab", "cd"}, "abcd", false, "abcd"},
		{"OverLimitAcrossWrites", 4, []string{"abc", "def", "gh"}, "abcd\n…[truncated 4 bytes]", true, "abcdefgh"},
		{"CutInsideRune", 4, []string{"abc✓"}, "abc\n…[truncated 3 bytes]", true, "abc✓"},
		{"LastLineAfterCap", 3, []string{"first\n", "last line\n\n"}, "fir\n…[truncated 14 bytes]", true, "last line"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCapture(tt.limit)
			for _, w := range tt.writes {
				n, err := c.Write([]byte(w))
				require.NoError(t, err)
				require.Equal(t, len(w), n)
			}
			require.Equal(t, tt.text, c.text())
			require.Equal(t, tt.truncated, c.truncated())
			require.Equal(t, tt.lastLine, c.lastLine())
		})
	}
}

func TestCaptureTailForgetsOldOutput(t *testing.T) {
	t.Parallel()
	c := newCapture(10)
	_, _ = c.Write([]byte("old line\n"))
	for range 10 {
		_, _ = c.Write([]byte(strings.Repeat("x", tailSize/4) + "\n"))
	}
	_, _ = c.Write([]byte("result\n"))
	require.Equal(t, "result", c.lastLine())
	require.LessOrEqual(t, len(c.tail), 2*tailSize)

	// A line longer than the remembered tail has lost its start: it is not reported.
	c = newCapture(10)
	_, _ = c.Write([]byte("start " + strings.Repeat("y", 3*tailSize)))
	require.Empty(t, c.lastLine())
}

func TestLastNonEmptyLine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in       string
		complete bool
		want     string
	}{
		{"", true, ""},
		{"\n\n  \n", true, ""},
		{"one", true, "one"},
		{"one\ntwo\n", true, "two"},
		{"one\n  two  \r\n\n\t\n", true, "two"},
		{"partial", false, ""},
		{"partial\nwhole\n", false, "whole"},
	} {
		require.Equal(t, tt.want, lastNonEmptyLine([]byte(tt.in), tt.complete), "%q", tt.in)
	}
}
