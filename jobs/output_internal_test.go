package jobs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/params"
)

// A stream cut into batches anywhere keeps every character whole and every secret masked: a
// multi-byte character or a secret split across writes waits for its rest before it is stored.
func TestOutputStreamTakeAcrossWrites(t *testing.T) {
	t.Parallel()
	sc := params.NewScrubber(map[string]any{"token": "s3cr3t-value"})
	text := "héllo → s3cr3t-value, wörld\x00 s3cr3t-value!\n"
	want := "héllo → ********, wörld\uFFFD ********!\n"
	for step := 1; step <= 7; step++ {
		s := &outputStream{}
		var got strings.Builder
		b := []byte(text)
		for i := 0; i < len(b); i += step {
			s.pending = append(s.pending, b[i:min(i+step, len(b))]...)
			got.WriteString(s.take(sc, sc.Longest()-1, false))
		}
		got.WriteString(s.take(sc, sc.Longest()-1, true))
		require.Equal(t, want, got.String(), "writes of %d bytes", step)
	}
}
