package plotting

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// history returns a plausible training history of n epochs, validated every `every` epochs.
func history(n, every int) mnistfc.History {
	var h mnistfc.History
	for e := 1; e <= n; e++ {
		t := float64(e)
		h.TrainAccuracies = append(h.TrainAccuracies, 0.99-0.5*math.Exp(-t/4))
		h.TrainLosses = append(h.TrainLosses, 0.05+2*math.Exp(-t/4))
		if (e-1)%every == 0 {
			h.ValEpochs = append(h.ValEpochs, e)
			h.ValAccuracies = append(h.ValAccuracies, 0.97-0.5*math.Exp(-t/4))
			h.ValLosses = append(h.ValLosses, 0.1+2*math.Exp(-t/4)+0.002*t)
		}
	}
	return h
}

// params returns weights of the given hidden size, unit j's weights being w(j, pixel).
func params(hidden int, w func(j, i int) float32) *mnistfc.Params {
	p := &mnistfc.Params{
		Hidden: hidden,
		W1:     make([]float32, hidden*mnistfc.NumPixels),
		B1:     make([]float32, hidden),
		W2:     make([]float32, hidden*mnistfc.NumClasses),
		B2:     make([]float32, mnistfc.NumClasses),
	}
	for j := range hidden {
		for i := range mnistfc.NumPixels {
			p.W1[j*mnistfc.NumPixels+i] = w(j, i)
		}
	}
	return p
}

// decodePNG decodes b and fails the test if it is not a PNG.
func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output is not a PNG: %v", err)
	}
	return img
}

// checkChart checks that b is a chart in format whose PNG size lies in the given ranges.
func checkChart(t *testing.T, b []byte, format Format, minW, maxW, minH, maxH int) {
	t.Helper()
	switch format {
	case PNG:
		size := decodePNG(t, b).Bounds().Size()
		if size.X < minW || size.X > maxW || size.Y < minH || size.Y > maxH {
			t.Errorf("PNG is %dx%d, want width in [%d, %d] and height in [%d, %d]", size.X, size.Y, minW, maxW, minH, maxH)
		}
	case SVG:
		s := string(b)
		if !strings.HasPrefix(s, "<?xml") && !strings.Contains(s, "<svg") {
			t.Errorf("SVG output starts with %q", s[:min(len(s), 40)])
		}
		if !strings.Contains(s, "</svg>") {
			t.Errorf("SVG output is not closed")
		}
	}
}

// wantErr fails the test unless err is an error whose message holds every one of words.
func wantErr(t *testing.T, err error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", words)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestFormatFromPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want Format
		ok   bool
	}{
		{"curves.png", PNG, true},
		{"out/dir.v2/CURVES.SVG", SVG, true},
		{"x.jpg", "", false},
		{"noextension", "", false},
		{"png", "", false},
	} {
		got, err := FormatFromPath(tc.path)
		if !tc.ok {
			wantErr(t, err, tc.path)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("FormatFromPath(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
}

func TestCurves(t *testing.T) {
	nanLoss := history(10, 1)
	nanLoss.TrainLosses[7] = math.NaN()
	nanLoss.ValLosses[8] = math.Inf(1)
	allNaN := history(4, 1)
	for i := range allNaN.TrainLosses {
		allNaN.TrainLosses[i], allNaN.ValLosses[i] = math.NaN(), math.NaN()
	}
	noVal := history(6, 1)
	noVal.ValAccuracies, noVal.ValLosses, noVal.ValEpochs = nil, nil, nil
	for _, tc := range []struct {
		name string
		h    mnistfc.History
	}{
		{"35 epochs", history(35, 1)},
		{"every 5", history(35, 5)},
		{"one epoch", history(1, 1)},
		{"no validation", noVal},
		{"non-finite loss", nanLoss},
		{"diverged", allNaN},
		{"100 epochs", history(100, 3)},
	} {
		for _, f := range []Format{PNG, SVG} {
			t.Run(tc.name+"/"+string(f), func(t *testing.T) {
				b, err := Curves(tc.h, "hidden 100, lr 0.1", f)
				if err != nil {
					t.Fatal(err)
				}
				checkChart(t, b, f, 940, 980, 370, 400) // 10x4 inches at 96 dpi.
			})
		}
	}
}

// TestCurvesLegend checks that the legend sits right of both panels, where
// no line runs: the thumbnails' colours show there, and only there.
func TestCurvesLegend(t *testing.T) {
	b, err := Curves(history(35, 1), "", PNG)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, b)
	size := img.Bounds().Size()
	strip := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(size.X-110, 0, size.X, size.Y))
	for i, name := range []string{"train", "validation"} {
		c := lineColor(i).(color.RGBA)
		if n := countColor(strip, c); n < 10 {
			t.Errorf("%s: %d pixels of its colour in the legend strip, want a thumbnail's worth", name, n)
		}
		if n := countColor(strip, c); n > 200 {
			t.Errorf("%s: %d pixels of its colour in the legend strip: the lines run into it", name, n)
		}
	}
}

func TestCurvesErrors(t *testing.T) {
	good := history(5, 1)
	shortLoss := history(5, 1)
	shortLoss.TrainLosses = shortLoss.TrainLosses[:3]
	valMismatch := history(5, 1)
	valMismatch.ValLosses = valMismatch.ValLosses[:2]
	epochZero := history(5, 1)
	epochZero.ValEpochs[0] = 0
	for _, tc := range []struct {
		name   string
		h      mnistfc.History
		format Format
		words  []string
	}{
		{"empty", mnistfc.History{}, PNG, []string{"empty history"}},
		{"train lengths", shortLoss, PNG, []string{"5 train accuracies", "3 train losses"}},
		{"validation lengths", valMismatch, SVG, []string{"5 validation epochs", "2 validation losses"}},
		{"epoch zero", epochZero, PNG, []string{"epoch"}},
		{"format", good, Format("jpg"), []string{`"jpg"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Curves(tc.h, "", tc.format)
			wantErr(t, err, tc.words...)
		})
	}
}

func TestCurvesCompare(t *testing.T) {
	a, b := history(20, 1), history(20, 2)
	for i := range b.TrainAccuracies {
		b.TrainAccuracies[i] -= 0.05
	}
	for _, f := range []Format{PNG, SVG} {
		out, err := CurvesCompare([]mnistfc.History{a, b}, []string{"row softmax", "batch softmax"}, "softmax", f)
		if err != nil {
			t.Fatal(err)
		}
		checkChart(t, out, f, 940, 980, 370, 400)
	}
	for _, tc := range []struct {
		name  string
		hs    []mnistfc.History
		names []string
		words []string
	}{
		{"none", nil, nil, []string{"no histories"}},
		{"names", []mnistfc.History{a, b}, []string{"a"}, []string{"1 names", "2 histories"}},
		{"empty run", []mnistfc.History{a, {}}, []string{"a", "b"}, []string{`"b"`, "empty history"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CurvesCompare(tc.hs, tc.names, "", PNG)
			wantErr(t, err, tc.words...)
		})
	}
}

func TestWeightsGridSize(t *testing.T) {
	for _, tc := range []struct {
		hidden, cols, scale int
		w, h                int // Tiles of 28·scale pixels, Border (2) pixels around and between them.
	}{
		{5, 5, 1, 5*28 + 6*2, 28 + 2*2},
		{5, 0, 1, 3*28 + 4*2, 2*28 + 3*2}, // Near-square: 3 columns, 2 rows.
		{100, 0, 2, 10*56 + 11*2, 10*56 + 11*2},
		{7, 3, 1, 3*28 + 4*2, 3*28 + 4*2},
		{3, 10, 1, 3*28 + 4*2, 28 + 2*2}, // No more columns than units.
		{1, 0, 3, 84 + 2*2, 84 + 2*2},
		{200, 20, 1, 20*28 + 21*2, 10*28 + 11*2},
	} {
		img, err := WeightsGrid(params(tc.hidden, func(j, i int) float32 { return float32(i * j) }), tc.cols, tc.scale)
		if err != nil {
			t.Fatalf("hidden %d, cols %d, scale %d: %v", tc.hidden, tc.cols, tc.scale, err)
		}
		if got := img.Bounds().Size(); got.X != tc.w || got.Y != tc.h {
			t.Errorf("hidden %d, cols %d, scale %d: grid is %dx%d, want %dx%d", tc.hidden, tc.cols, tc.scale, got.X, got.Y, tc.w, tc.h)
		}
	}
}

func TestWeightsGridTiles(t *testing.T) {
	const scale, cols = 2, 2
	const peakRow, peakCol = 5, 20
	// Unit 0: constant. Unit 1: huge values (must not affect the others).
	// Unit 2: a peak at (peakRow, peakCol), falling off with distance.
	// Unit 3: a left-to-right gradient.
	p := params(4, func(j, i int) float32 {
		r, c := float64(i/mnistfc.ImageCols), float64(i%mnistfc.ImageCols)
		switch j {
		case 0:
			return 0.25
		case 1:
			return float32(1e6 * r)
		case 2:
			return float32(-math.Hypot(r-peakRow, c-peakCol))
		default:
			return float32(c)
		}
	})
	img, err := WeightsGrid(p, cols, scale)
	if err != nil {
		t.Fatal(err)
	}
	tile := mnistfc.ImageCols * scale
	origin := func(j int) image.Point {
		return image.Pt(Border+(j%cols)*(tile+Border), Border+(j/cols)*(tile+Border))
	}
	// extremes returns the brightest and darkest pixels of unit j's tile, first found in row-major order.
	extremes := func(j int) (bright, dark image.Point, hi, lo uint8) {
		o := origin(j)
		lo = 255
		for y := o.Y; y < o.Y+tile; y++ {
			for x := o.X; x < o.X+tile; x++ {
				g := img.GrayAt(x, y).Y
				if g > hi || (x == o.X && y == o.Y) {
					bright, hi = image.Pt(x, y).Sub(o), g
				}
				if g < lo {
					dark, lo = image.Pt(x, y).Sub(o), g
				}
			}
		}
		return bright, dark, hi, lo
	}

	if _, _, hi, lo := extremes(0); hi != flatGray || lo != flatGray {
		t.Errorf("constant unit: tile values in [%d, %d], want all %d", lo, hi, flatGray)
	}
	bright, _, hi, lo := extremes(2)
	if want := image.Pt(peakCol*scale, peakRow*scale); bright != want || hi != 255 || lo != 0 {
		t.Errorf("peaked unit: brightest pixel %v = %d (darkest %d), want %v = 255 (darkest 0)", bright, hi, lo, want)
	}
	bright, dark, _, _ := extremes(3)
	if bright.X != (mnistfc.ImageCols-1)*scale || dark.X != 0 {
		t.Errorf("gradient unit: brightest at x=%d, darkest at x=%d; want x=%d and x=0", bright.X, dark.X, (mnistfc.ImageCols-1)*scale)
	}
	// Borders are white: the top-left corner and the column between the first two tiles.
	for _, pt := range []image.Point{{0, 0}, {1, 1}, {Border + tile, Border + 3}, {Border + tile + 1, Border + tile/2}} {
		if g := img.GrayAt(pt.X, pt.Y).Y; g != background {
			t.Errorf("border pixel %v = %d, want %d", pt, g, background)
		}
	}
}

func TestWeightsErrors(t *testing.T) {
	good := params(3, func(j, i int) float32 { return float32(i) })
	short := params(3, func(j, i int) float32 { return 0 })
	short.W1 = short.W1[:100]
	for _, tc := range []struct {
		name  string
		p     *mnistfc.Params
		scale int
		words []string
	}{
		{"nil", nil, 1, []string{"nil"}},
		{"hidden 0", &mnistfc.Params{}, 1, []string{"hidden size 0"}},
		{"short W1", short, 1, []string{"W1 has 100 values", "2352"}},
		{"scale 0", good, 0, []string{"scale 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := WeightsGrid(tc.p, 0, tc.scale)
			wantErr(t, err, tc.words...)
			_, err = WeightsPNG(tc.p, 0, tc.scale)
			wantErr(t, err, tc.words...)
		})
	}
}

func TestWeightsPNG(t *testing.T) {
	p := params(10, func(j, i int) float32 { return float32(math.Sin(float64(i*(j+1)) / 50)) })
	b, err := WeightsPNG(p, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, b)
	if got, want := img.Bounds().Size(), image.Pt(5*84+6*Border, 2*84+3*Border); got != want {
		t.Errorf("PNG is %v, want %v", got, want)
	}
}

func TestWeightsSeries(t *testing.T) {
	a := params(4, func(j, i int) float32 { return float32(i % (j + 3)) })
	b := params(4, func(j, i int) float32 { return float32(i / (j + 1)) })
	grid, err := WeightsGrid(a, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	out, err := WeightsSeries([]*mnistfc.Params{a, b, a}, []string{"epoch 1", "epoch 5", "epoch 35"}, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, out)
	size, g := img.Bounds().Size(), grid.Bounds().Size()
	if size.X < 3*g.X || size.X > 3*g.X+200 || size.Y <= g.Y+13 || size.Y > g.Y+100 {
		t.Errorf("series is %v, want about 3 grids of %v side by side under a caption row", size, g)
	}
	// The caption row holds dark text pixels.
	dark := false
	for y := 0; y < size.Y-g.Y && !dark; y++ {
		for x := 0; x < size.X; x++ {
			if gr := color.GrayModel.Convert(img.At(x, y)).(color.Gray); gr.Y < 64 {
				dark = true
				break
			}
		}
	}
	if !dark {
		t.Error("caption row has no text")
	}

	for _, tc := range []struct {
		name     string
		ps       []*mnistfc.Params
		captions []string
		words    []string
	}{
		{"none", nil, nil, []string{"no weights"}},
		{"captions", []*mnistfc.Params{a, b}, []string{"x"}, []string{"1 captions", "2 sets"}},
		{"bad weights", []*mnistfc.Params{a, nil}, []string{"x", "y"}, []string{`"y"`, "nil"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := WeightsSeries(tc.ps, tc.captions, 0, 1)
			wantErr(t, err, tc.words...)
		})
	}
}

func TestConfusion(t *testing.T) {
	labels := []uint8{0, 0, 1, 2, 2, 2, 9}
	preds := []uint8{0, 1, 1, 2, 0, 2, 4}
	m, err := Confusion(labels, preds)
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]int]int{{0, 0}: 1, {0, 1}: 1, {1, 1}: 1, {2, 2}: 2, {2, 0}: 1, {9, 4}: 1}
	for tr := range mnistfc.NumClasses {
		for pr := range mnistfc.NumClasses {
			if got := m[tr][pr]; got != want[[2]int{tr, pr}] {
				t.Errorf("m[%d][%d] = %d, want %d", tr, pr, got, want[[2]int{tr, pr}])
			}
		}
	}
	for _, tc := range []struct {
		name          string
		labels, preds []uint8
		words         []string
	}{
		{"lengths", []uint8{1, 2}, []uint8{1}, []string{"2 labels", "1 predictions"}},
		{"label 10", []uint8{1, 10}, []uint8{1, 2}, []string{"example 1", "label 10"}},
		{"pred 12", []uint8{3}, []uint8{12}, []string{"prediction 12"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Confusion(tc.labels, tc.preds)
			wantErr(t, err, tc.words...)
			_, err = ConfusionMatrix(tc.labels, tc.preds, "", PNG)
			wantErr(t, err, tc.words...)
		})
	}
}

func TestConfusionMatrix(t *testing.T) {
	var labels, preds []uint8
	for i := range 1000 {
		l := uint8(i % 10)
		p := l
		if i%7 == 0 {
			p = uint8((i / 7) % 10)
		}
		labels, preds = append(labels, l), append(preds, p)
	}
	for _, f := range []Format{PNG, SVG} {
		b, err := ConfusionMatrix(labels, preds, "test set", f)
		if err != nil {
			t.Fatal(err)
		}
		checkChart(t, b, f, 400, 900, 400, 800)
		if f == SVG && !bytes.Contains(b, []byte(`<image preserveAspectRatio="none" `)) {
			t.Error("SVG: the colour bar's image keeps its aspect ratio (a hairline in viewers)")
		}
	}
	// An empty test set is a blank matrix, not an error.
	if _, err := ConfusionMatrix(nil, nil, "", PNG); err != nil {
		t.Errorf("empty confusion matrix: %v", err)
	}
}

// countColor counts the pixels of img close to c.
func countColor(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			d := math.Abs(float64(r>>8)-float64(c.R)) + math.Abs(float64(g>>8)-float64(c.G)) + math.Abs(float64(bl>>8)-float64(c.B))
			if d < 30 {
				n++
			}
		}
	}
	return n
}

func TestHeatmap(t *testing.T) {
	rows, cols := []string{"1", "5", "100", "200"}, []string{"1e-06", "0.0001", "0.001", "0.1"}
	values := [][]float64{
		{0.11, 0.2, 0.5, 0.6},
		{0.11, 0.4, 0.8, 0.9},
		{0.2, 0.85, 0.93, math.NaN()},
		{0.3, 0.86, 0.94, 0.981},
	}
	marked := [][]bool{
		{false, true, false, false},
		{false, true, false, false},
		{true, true, true, true},
		{false, true, false, false},
	}
	none := make([][]bool, len(rows))
	for r := range none {
		none[r] = make([]bool, len(cols))
	}
	for _, f := range []Format{PNG, SVG} {
		b, err := Heatmap(values, marked, rows, cols, "learning rate", "hidden units", "test accuracy", "%.3f", f)
		if err != nil {
			t.Fatal(err)
		}
		checkChart(t, b, f, 500, 1000, 300, 700)
	}
	// Marked cells carry a red outline; unmarked ones do not.
	red := make(map[bool]int)
	for _, m := range [][][]bool{marked, none} {
		b, err := Heatmap(values, m, rows, cols, "x", "y", "", "%.2f", PNG)
		if err != nil {
			t.Fatal(err)
		}
		red[m[2][0]] = countColor(decodePNG(t, b), markColor)
	}
	if red[true] < 100 || red[false] > 10 {
		t.Errorf("red pixels: %d with marks, %d without; want many and none", red[true], red[false])
	}

	// The colours come from the colour map: the largest value's cell is
	// viridis' yellow, the NaN cell grey, and the colour bar spans both ends.
	b, err := Heatmap(values, nil, rows, cols, "x", "y", "", "%.2f", PNG)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, b)
	top, bottom := viridisStops[len(viridisStops)-1].(color.RGBA), viridisStops[0].(color.RGBA)
	if n := countColor(img, top); n < 2000 {
		t.Errorf("%d yellow pixels (the top cell and the bar's top), want more", n)
	}
	if n := countColor(img, bottom); n < 2000 {
		t.Errorf("%d dark purple pixels (the lowest cells and the bar's bottom), want more", n)
	}
	if n := countColor(img, nanColor); n < 2000 {
		t.Errorf("%d grey pixels: the NaN cell is not grey", n)
	}

	// Degenerate values draw.
	for name, v := range map[string][][]float64{
		"all equal": {{0.5, 0.5}},
		"all NaN":   {{math.NaN(), math.NaN()}},
		"one cell":  {{0.5}},
	} {
		if _, err := Heatmap(v, nil, []string{"r"}, cols[:len(v[0])], "x", "y", name, "", PNG); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	for _, tc := range []struct {
		name      string
		values    [][]float64
		marked    [][]bool
		rows      []string
		cellFmt   string
		format    Format
		wantWords []string
	}{
		{"rows", values[:3], nil, rows, "", PNG, []string{"3 rows of values", "4 row labels"}},
		{"row length", [][]float64{{1}, {1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}}, nil, rows, "", PNG, []string{"row 0 has 1 values"}},
		{"marks", values, marked[:2], rows, "", PNG, []string{"2 rows of marks"}},
		{"no labels", nil, nil, nil, "", PNG, []string{"empty grid"}},
		{"cell format", values, nil, rows, "%d", PNG, []string{`"%d"`}},
		{"format", values, nil, rows, "", Format("pdf"), []string{`"pdf"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Heatmap(tc.values, tc.marked, tc.rows, cols, "x", "y", "", tc.cellFmt, tc.format)
			wantErr(t, err, tc.wantWords...)
		})
	}
}

func TestAccuracyHeatmap(t *testing.T) {
	cells := []mnistfc.CellSummary{
		{Hidden: 100, LR: 0.1, Runs: 1, TestAccMean: 0.97},
		{Hidden: 5, LR: 0.1, Runs: 1, TestAccMean: 0.88},
		{Hidden: 100, LR: 1e-4, Runs: 1, TestAccMean: 0.6},
	}
	b, err := AccuracyHeatmap(cells, []int{5, 100}, []float64{1e-4, 0.1}, "sweep")
	if err != nil {
		t.Fatal(err)
	}
	checkChart(t, b, PNG, 500, 1000, 300, 700)
	_, err = AccuracyHeatmap(cells, nil, []float64{0.1}, "")
	wantErr(t, err, "0 hidden sizes")
}

func TestDigitGallery(t *testing.T) {
	digit := func(k int) []float32 {
		v := make([]float32, mnistfc.NumPixels)
		for i := range v {
			r, c := i/mnistfc.ImageCols, i%mnistfc.ImageCols
			if (r-14)*(r-14)+(c-14)*(c-14) < 4*(k+3)*(k+3) {
				v[i] = 2.8
			} else {
				v[i] = -0.42
			}
		}
		return v
	}
	var images [][]float32
	var captions []string
	for k := range 6 {
		images = append(images, digit(k))
		captions = append(captions, "true 4 / pred 9 (0.87)")
	}
	for _, tc := range []struct {
		name        string
		captions    []string
		cols, scale int
		cols2, rows int // Grid shape the layout implies.
	}{
		{"captions", captions, 3, 2, 3, 2},
		{"no captions", nil, 3, 2, 3, 2},
		{"square", captions, 0, 1, 3, 2},
		{"one row", nil, 10, 3, 6, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := DigitGallery(images, tc.captions, tc.cols, tc.scale)
			if err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, b)
			size := img.Bounds().Size()
			tile := 28 * tc.scale
			minW, minH := tc.cols2*tile, tc.rows*tile
			if tc.captions != nil {
				minW, minH = tc.cols2*len(tc.captions[0])*7, tc.rows*(tile+13)
			}
			if size.X < minW || size.X > minW+tc.cols2*40+40 || size.Y < minH || size.Y > minH+tc.rows*40+40 {
				t.Errorf("gallery is %v, want about %dx%d", size, minW, minH)
			}
			// The digits' strokes are white, their background black.
			if n := countColor(img, color.RGBA{255, 255, 255, 255}); n < 6*20*tc.scale*tc.scale {
				t.Errorf("only %d white pixels", n)
			}
		})
	}
	for _, tc := range []struct {
		name     string
		images   [][]float32
		captions []string
		scale    int
		words    []string
	}{
		{"none", nil, nil, 1, []string{"no images"}},
		{"captions", images, captions[:2], 1, []string{"2 captions", "6 images"}},
		{"image size", [][]float32{make([]float32, 700)}, nil, 1, []string{"image 0 has 700 values", "784"}},
		{"scale", images, nil, -1, []string{"scale -1"}},
	} {
		t.Run("error "+tc.name, func(t *testing.T) {
			_, err := DigitGallery(tc.images, tc.captions, 0, tc.scale)
			wantErr(t, err, tc.words...)
		})
	}
}

func TestColorMaps(t *testing.T) {
	near := func(a, b color.Color) bool {
		r1, g1, b1, _ := a.RGBA()
		r2, g2, b2, _ := b.RGBA()
		d := math.Abs(float64(r1>>8)-float64(r2>>8)) + math.Abs(float64(g1>>8)-float64(g2>>8)) + math.Abs(float64(b1>>8)-float64(b2>>8))
		return d <= 6
	}
	for name, stops := range map[string][]color.Color{"viridis": viridisStops, "blues": bluesStops} {
		cmap, err := newColorMap(stops, 2, 4)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The ends are the first and last stops, also for a falling luminance (blues).
		for _, tc := range []struct {
			v    float64
			want color.Color
		}{{2, stops[0]}, {4, stops[len(stops)-1]}} {
			if c := colorAt(cmap, tc.v); !near(c, tc.want) {
				t.Errorf("%s: colour of %g = %v, want about %v", name, tc.v, c, tc.want)
			}
		}
		// Luminance changes monotonically along the map.
		prev := luminance(colorAt(cmap, 2))
		rising := luminance(stops[0]) < luminance(stops[len(stops)-1])
		for v := 2.1; v <= 4; v += 0.1 {
			l := luminance(colorAt(cmap, v))
			if (rising && l < prev-1e-3) || (!rising && l > prev+1e-3) {
				t.Errorf("%s: luminance not monotonic at %g: %g after %g", name, v, l, prev)
			}
			prev = l
		}
		if c := colorAt(cmap, 9); !near(c, stops[len(stops)-1]) {
			t.Errorf("%s: a value above the range is not clamped: %v", name, c)
		}
		if c := colorAt(cmap, math.NaN()); c != color.Color(nanColor) {
			t.Errorf("%s: NaN gives %v, want %v", name, c, nanColor)
		}
	}
	if luminance(viridisStops[0]) > 0.1 || luminance(viridisStops[8]) < 0.6 {
		t.Error("viridis should run from dark to light")
	}
	// All values equal: the range is widened.
	cmap, err := newColorMap(viridisStops, 0.5, 0.5)
	if err != nil || !(cmap.Min() < 0.5 && cmap.Max() > 0.5) {
		t.Errorf("equal values: range [%g, %g], %v", cmap.Min(), cmap.Max(), err)
	}
}

// TestWriteSamples writes one sample of each picture into the folder named
// by $PLOTTING_SAMPLES, for looking at; it is skipped if that is not set.
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("PLOTTING_SAMPLES")
	if dir == "" {
		t.Skip("set PLOTTING_SAMPLES=DIR to write sample pictures")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := history(35, 1)
	b, err := Curves(h, "hidden 100, lr 0.1, softmax row", PNG)
	write("curves.png", b, err)
	b, err = Curves(h, "hidden 100, lr 0.1, softmax row", SVG)
	write("curves.svg", b, err)
	h2 := history(35, 1)
	for i := range h2.TrainAccuracies {
		h2.TrainAccuracies[i] -= 0.04
		h2.ValAccuracies[i] -= 0.05
		h2.TrainLosses[i] += 0.1
		h2.ValLosses[i] += 0.15
	}
	b, err = CurvesCompare([]mnistfc.History{h, h2}, []string{"row softmax", "batch softmax"}, "softmax over rows vs over the batch", PNG)
	write("compare.png", b, err)

	// Weights: blobs and strokes at places depending on the unit.
	weights := func(hidden int, sharp float64) *mnistfc.Params {
		return params(hidden, func(j, i int) float32 {
			r, c := float64(i/28), float64(i%28)
			cr, cc := 8+float64(j*7%12), 8+float64(j*5%12)
			d := math.Hypot(r-cr, c-cc)
			noise := math.Sin(float64(i*(j+3))*12.9898) * 0.3
			return float32(math.Exp(-d*d/(2*sharp*sharp))*math.Cos(float64(j)+r/4) + noise/sharp)
		})
	}
	b, err = WeightsPNG(weights(100, 4), 0, 2)
	write("weights.png", b, err)
	b, err = WeightsSeries([]*mnistfc.Params{weights(25, 1), weights(25, 3), weights(25, 5)}, []string{"epoch 1", "epoch 5", "epoch 35"}, 5, 2)
	write("series.png", b, err)

	var labels, preds []uint8
	for i := range 10000 {
		l := uint8(i % 10)
		p := l
		if x := (i * 2654435761) % 1000; x < 10*int(l)+5 { // Errors grow with the class.
			p = uint8((int(l) + 1 + x%9) % 10)
		}
		labels, preds = append(labels, l), append(preds, p)
	}
	b, err = ConfusionMatrix(labels, preds, "test set, hidden 100, lr 0.1", PNG)
	write("confusion.png", b, err)
	b, err = ConfusionMatrix(labels, preds, "test set, hidden 100, lr 0.1", SVG)
	write("confusion.svg", b, err)

	hs := []int{1, 5, 100, 200}
	lrs := []float64{1e-6, 1e-4, 1e-3, 0.1}
	var cells []mnistfc.CellSummary
	for _, hd := range hs {
		for _, lr := range lrs {
			if hd == 200 && lr == 1e-6 {
				continue // A missing cell.
			}
			acc := 0.1 + 0.88*(1-math.Exp(-float64(hd)/20))*(1-math.Exp(-lr*3000))
			cells = append(cells, mnistfc.CellSummary{Hidden: hd, LR: lr, Runs: 1, TestAccMean: acc})
		}
	}
	b, err = AccuracyHeatmap(cells, hs, lrs, "Test accuracy after 35 epochs, softmax row")
	write("heatmap.png", b, err)

	var images [][]float32
	var captions []string
	for k := range 12 {
		im := make([]float32, mnistfc.NumPixels)
		for i := range im {
			r, c := float64(i/28), float64(i%28)
			d := math.Abs(math.Hypot(r-14, (c-14)*(1+float64(k%3)/3)) - 7 - float64(k%4))
			im[i] = float32(-0.42 + 3.2*math.Max(0, 1-d/2))
		}
		images = append(images, im)
		captions = append(captions, "true 4 / pred 9 (0.87)")
	}
	b, err = DigitGallery(images, captions, 4, 3)
	write("gallery.png", b, err)
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi  float64
		integer bool
		want    string
	}{
		{0.55, 0.99, false, "0.6 0.7 0.8 0.9"},
		{1, 35, true, "5 10 15 20 25 30 35"},
		{1, 3, true, "1 2 3"},
		{1, 1.5, true, "1"},
		{0.2, 0.7, true, ""},
		{0, 990, false, "0 200 400 600 800"},
		{0.05, 1.7, false, "0.25 0.50 0.75 1.00 1.25 1.50"},
		{-1, 1, false, "-1.0 -0.5 0.0 0.5 1.0"},
	} {
		var labels []string
		for _, tk := range (niceTicks{integer: tc.integer}).Ticks(tc.lo, tc.hi) {
			labels = append(labels, tk.Label)
		}
		if got := strings.Join(labels, " "); got != tc.want {
			t.Errorf("ticks of [%g, %g] (integer %v) = %q, want %q", tc.lo, tc.hi, tc.integer, got, tc.want)
		}
	}
}
