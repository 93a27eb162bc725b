package finite

import (
	"math"
	"testing"
)

func TestIs(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want bool
	}{
		{0, true},
		{-1.5, true},
		{math.MaxFloat64, true},
		{math.SmallestNonzeroFloat64, true},
		{math.NaN(), false},
		{math.Inf(1), false},
		{math.Inf(-1), false},
	} {
		if got := Is(tc.x); got != tc.want {
			t.Errorf("Is(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
}
