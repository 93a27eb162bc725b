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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/mnistfc/mnistfc/internal/finite"
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

// Show displays the PNG image a plotting function returns, or prints its
// error: notebook.Show(plotting.DigitGallery(...)). It reports whether an
// image was shown. What the cell printed before comes before the image,
// and what it prints after comes after it.
func Show(png []byte, err error) bool {
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		return false
	}
	display(map[protocol.MIMEType]any{protocol.MIMEImagePNG: png})
	return true
}

// display shows data as a cell output, in order with what the cell prints:
// it waits for GoNB to take what came before, and then for GoNB to take
// data. The second wait matters at the end of a cell: GoNB drops what it
// takes after the cell's program has exited.
func display(data map[protocol.MIMEType]any) {
	if !gonbui.IsNotebook {
		return
	}
	gonbui.Sync()
	gonbui.SendData(&protocol.DisplayData{Data: data})
	gonbui.Sync()
}

// Markdown displays Markdown text (formatted with fmt.Sprintf) as a cell
// output, in order with what the cell prints.
func Markdown(format string, args ...any) {
	display(map[protocol.MIMEType]any{protocol.MIMETextMarkdown: fmt.Sprintf(format, args...)})
}

// Progress returns a training option that shows a progress bar in one
// output that is updated in place: epoch, phase, batch and elapsed time.
// epochs is the number of epochs of the run (Config.Epochs).
func Progress(title string, epochs int) mnistfc.Option {
	return newView(title, epochs, false).option()
}

// minRedraw is the least time between two progress updates: an epoch takes
// a fraction of a second, and each update travels kernel -> Jupyter -> browser.
const minRedraw = 150 * time.Millisecond

// view is the state behind Progress and Experiment's live curves.
type view struct {
	mu     sync.Mutex
	id     string // Display id of the output.
	figID  string // Element id of the figure.
	title  string
	epochs int
	curves bool
	start  time.Time
	last   time.Time
	epoch  int // Epochs finished.
	hist   mnistfc.History
	figure string // The latest figure's HTML, "" before the first epoch.
	png    []byte // The curves' PNG image, once drawn.
	status string // The latest progress line.
}

func newView(title string, epochs int, curves bool) *view {
	id := gonbui.UniqueId()
	return &view{id: "mnistfc-" + id, figID: "mnistfc-fig-" + id, title: title, epochs: epochs, curves: curves}
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
	v.status = epochProgressHTML(v.title, epoch, v.epochs, phase, done, total, now.Sub(v.start))
	if now.Sub(v.last) >= minRedraw || (phase == mnistfc.PhaseTest && done == total) {
		v.last = now
		v.show()
	}
}

// epochDone adds an epoch to the curves and redraws them; after the last
// epoch, or one whose loss is not finite, with their PNG image.
func (v *view) epochDone(st mnistfc.EpochStats) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.epoch = st.Epoch
	v.hist.Add(st)
	if v.curves {
		last := st.Epoch >= v.epochs || !finite.Is(st.TrainLoss) || !finite.Is(st.ValLoss)
		v.draw(last)
	}
	v.last = time.Now()
	v.show()
}

// draw renders the curves of the epochs so far, and their PNG image too
// when withPNG is set.
func (v *view) draw(withPNG bool) {
	fig, err := plotting.CurvesFigure([]mnistfc.History{v.hist}, nil, v.title)
	if err != nil {
		return
	}
	if withPNG {
		if png, err := plotting.Curves(v.hist, v.title, plotting.PNG); err == nil {
			v.png = png
		}
	}
	v.figure = figureHTML(v.figID, fig, v.png, v.title)
}

// show sends the output: the figure, then the progress line.
func (v *view) show() {
	showFigure(v.id, v.figure+v.status, v.png)
}

// finish draws the final output of a run: the curves with their PNG image
// (curves on), then the status line, replaced by line when it is not "".
func (v *view) finish(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.curves && v.png == nil && len(v.hist.TrainLosses) > 0 {
		v.draw(true)
	}
	if line != "" {
		v.status = `<div class="mnistfc-progress" style="font-family:monospace">` + html.EscapeString(line) + `</div>`
	}
	v.show()
	gonbui.Sync() // The final output is taken before the cell can end (see display).
}

// epochProgressHTML renders the progress line of a training run: title, epoch
// out of epochs, the phase with its batch counter as an HTML progress bar,
// and the elapsed time.
func epochProgressHTML(title string, epoch, epochs int, phase mnistfc.Phase, done, total int, elapsed time.Duration) string {
	stage := "test"
	if phase != mnistfc.PhaseTest {
		stage = fmt.Sprintf("epoch %d/%d &middot; %s", epoch, epochs, html.EscapeString(string(phase)))
	}
	return progressHTML(title, stage, done, total, "batch", elapsed)
}

// progressHTML renders a progress line: title, stage (HTML), a progress
// bar of done out of total units, and the elapsed time.
func progressHTML(title, stage string, done, total int, unit string, elapsed time.Duration) string {
	var b strings.Builder
	b.WriteString(`<div class="mnistfc-progress" style="font-family:monospace">`)
	if title != "" {
		fmt.Fprintf(&b, "<b>%s</b> &middot; ", html.EscapeString(title))
	}
	if stage != "" {
		b.WriteString(stage + " ")
	}
	fmt.Fprintf(&b, `<progress value="%d" max="%d" style="width:16em;vertical-align:middle"></progress> `, done, max(total, 1))
	fmt.Fprintf(&b, "%s %d/%d &middot; %.1f s</div>", unit, done, total, elapsed.Seconds())
	return b.String()
}

// base64PNG returns png in base64, for a data: URL.
func base64PNG(png []byte) string { return base64.StdEncoding.EncodeToString(png) }
