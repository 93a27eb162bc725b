// Package notebook shows training in GoNB notebooks: a progress bar and
// accuracy/loss curves that redraw in place while a run trains, PNG images
// from the plotting package, and the notebooks' fast profile
// (MNISTFC_EPOCHS).
//
// Outside a notebook (no GoNB kernel) the display functions do nothing, so a
// notebook cell's code also runs as a plain Go program.
package notebook

import (
	"encoding/base64"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/plotting"
)

// EpochsEnv is the environment variable of the fast profile: when it holds a
// positive integer, Epochs returns it instead of a notebook's own setting.
const EpochsEnv = "MNISTFC_EPOCHS"

// Epochs returns the number of epochs a notebook trains for: the value of
// $MNISTFC_EPOCHS when it is a positive integer (the fast profile used by
// CI), def otherwise.
func Epochs(def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(os.Getenv(EpochsEnv))); err == nil && n > 0 {
		return n
	}
	return def
}

// Fast reports whether the fast profile is on ($MNISTFC_EPOCHS is set to a
// positive integer).
func Fast() bool { return Epochs(0) > 0 }

// TempPath returns a path for name in the kernel's temporary folder
// ($GONB_TMP_DIR), or in os.TempDir outside a notebook. Every GoNB cell runs
// as a new program, so cells hand results (a trained model, a sweep) to later
// cells through such files.
func TempPath(name string) string {
	dir := os.Getenv("GONB_TMP_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, name)
}

// PNG displays a PNG image returned by a plotting function, or prints err.
// It reports whether an image was shown.
func PNG(png []byte, err error) bool {
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		return false
	}
	gonbui.DisplayPNG(png)
	return true
}

// Markdown displays Markdown text (formatted with fmt.Sprintf) as a cell
// output.
func Markdown(format string, args ...any) {
	gonbui.DisplayMarkdown(fmt.Sprintf(format, args...))
}

// Progress returns a training option that shows a progress bar in one
// output that is updated in place: epoch, phase, batch and elapsed time.
// epochs is the number of epochs of the run (Config.Epochs).
func Progress(title string, epochs int) mnistfc.Option {
	return newView(title, epochs, false).option()
}

// LiveCurves returns a training option that shows the accuracy and loss
// curves in one output and redraws them after every epoch, with the
// progress bar under them. The last drawing stays in the output, so an
// exported notebook keeps the final curves.
func LiveCurves(title string, epochs int) mnistfc.Option {
	return newView(title, epochs, true).option()
}

// minRedraw is the least time between two progress updates: an epoch takes
// a fraction of a second, and each update travels kernel -> Jupyter -> browser.
const minRedraw = 150 * time.Millisecond

// view is the state behind Progress and LiveCurves.
type view struct {
	mu      sync.Mutex
	id      string
	title   string
	epochs  int
	curves  bool
	start   time.Time
	last    time.Time
	epoch   int // Epochs finished.
	hist    mnistfc.History
	curvesI string // <img> of the latest curves, "" before the first epoch.
	status  string // The latest progress line.
}

func newView(title string, epochs int, curves bool) *view {
	return &view{id: "mnistfc-" + gonbui.UniqueId(), title: title, epochs: epochs, curves: curves}
}

func (v *view) option() mnistfc.Option {
	return mnistfc.Combine(mnistfc.OnBatch(v.batch), mnistfc.OnEpoch(v.epochDone))
}

// batch records one finished batch and redraws at most every minRedraw.
func (v *view) batch(phase mnistfc.Phase, done, total int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := time.Now()
	if v.start.IsZero() {
		v.start = now
	}
	epoch := min(v.epoch+1, v.epochs)
	if phase == mnistfc.PhaseTest {
		epoch = v.epochs
	}
	v.status = ProgressHTML(v.title, epoch, v.epochs, phase, done, total, now.Sub(v.start))
	if now.Sub(v.last) >= minRedraw || (phase == mnistfc.PhaseTest && done == total) {
		v.last = now
		gonbui.UpdateHTML(v.id, v.curvesI+v.status)
	}
}

// epochDone adds an epoch to the curves and redraws them.
func (v *view) epochDone(st mnistfc.EpochStats) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.epoch = st.Epoch
	v.hist.Add(st)
	if v.curves {
		png, err := plotting.Curves(v.hist, v.title, plotting.PNG)
		if err == nil {
			v.curvesI = ImageHTML(png)
		}
	}
	v.last = time.Now()
	gonbui.UpdateHTML(v.id, v.curvesI+v.status)
}

// ProgressHTML renders the progress line of a training run: title, epoch
// out of epochs, the phase with its batch counter as an HTML progress bar,
// and the elapsed time.
func ProgressHTML(title string, epoch, epochs int, phase mnistfc.Phase, done, total int, elapsed time.Duration) string {
	var b strings.Builder
	b.WriteString(`<div style="font-family:monospace">`)
	if title != "" {
		fmt.Fprintf(&b, "<b>%s</b> &middot; ", html.EscapeString(title))
	}
	if phase == mnistfc.PhaseTest {
		b.WriteString("test ")
	} else {
		fmt.Fprintf(&b, "epoch %d/%d &middot; %s ", epoch, epochs, html.EscapeString(string(phase)))
	}
	fmt.Fprintf(&b, `<progress value="%d" max="%d" style="width:16em;vertical-align:middle"></progress> `, done, max(total, 1))
	fmt.Fprintf(&b, "batch %d/%d &middot; %.1f s</div>", done, total, elapsed.Seconds())
	return b.String()
}

// ImageHTML returns an HTML <img> element holding png inline (a data: URL),
// so the image stays in an exported HTML report.
func ImageHTML(png []byte) string {
	return `<img style="max-width:100%" src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(png) + `">`
}
