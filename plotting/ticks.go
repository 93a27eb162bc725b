package plotting

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"

	"github.com/mnistfc/mnistfc/internal/finite"
)

// niceTicks marks an axis every 1, 2, 2.5 or 5 times a power of ten, so
// that about four to seven ticks are labelled. With integer set, it marks
// whole numbers only (epochs).
type niceTicks struct {
	integer bool
}

// Ticks implements plot.Ticker.
func (n niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !finite.Is(lo) || !finite.Is(hi) {
		return nil
	}
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	const maxTicks = 7
	mag := math.Pow(10, math.Floor(math.Log10((hi-lo)/maxTicks)))
	step, decimals := 1.0, 0 // Integer ticks on a range shorter than 1.
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		s := m * mag
		if n.integer && (s < 1 || s != math.Trunc(s)) {
			continue
		}
		if (hi-lo)/s <= maxTicks {
			step = s
			if !n.integer {
				decimals = max(0, -int(math.Floor(math.Log10(step)+1e-9)))
				if m == 2.5 && step < 10 {
					decimals++
				}
			}
			break
		}
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+1e-9*step; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
	}
	return ticks
}
