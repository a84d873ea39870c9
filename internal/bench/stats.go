package bench

import (
	"math"
	"slices"
	"time"
)

// Percentiles summarises a sample of durations in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	N   int     `json:"n"`
}

// Summarise returns the percentiles of ms (nearest rank: the smallest value with at least p% of
// the sample at or below it). An empty sample gives zeros.
func Summarise(ms []float64) Percentiles {
	if len(ms) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	return Percentiles{
		P50: Rank(s, 50), P95: Rank(s, 95), P99: Rank(s, 99), Max: s[len(s)-1], N: len(s),
	}
}

// Rank returns the nearest-rank p-th percentile (0 < p <= 100) of sorted, which must be sorted
// ascending and not empty.
func Rank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Rate is n events over d, per second; 0 when d is not positive.
func Rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Ratio is a/b, or 0 when b is 0.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// round keeps d decimals, so the JSON stays readable.
func round(v float64, d int) float64 {
	f := math.Pow(10, float64(d))
	return math.Round(v*f) / f
}
