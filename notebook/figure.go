package notebook

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/plotting"
)

// PlotlyEnv names the environment variable that gives the path of
// plotly.js (a build with scatter plots, e.g. plotly-basic.min.js) for the
// interactive curves; unset, Setup takes the one that `make node-tools`
// installs in the repository (npm package plotly.js-basic-dist-min).
const PlotlyEnv = "MNISTFC_PLOTLY_JS"

// plotlyNPMPath is where `make node-tools` installs plotly.js, relative to
// the repository.
const plotlyNPMPath = "notebooks/e2e/node_modules/plotly.js-basic-dist-min/plotly-basic.min.js"

// Setup prints the versions and settings the cells run with (Go, build
// tags, GOEXPERIMENT, GoMLX, GoNB, the backend, the epochs per experiment)
// and loads plotly.js into the page, for the interactive curves of the
// cells that follow. It is the first thing a notebook's imports cell does.
//
// plotly.js goes into this cell's output, once: JupyterLab runs it when
// the cell runs (and when a saved, trusted notebook opens), and an
// exported HTML report carries it, so the curves draw offline, from no
// CDN. Without it (not installed, or a viewer that runs no JavaScript) the
// curves are the PNG images that every figure also holds.
func Setup() {
	info, ok := debug.ReadBuildInfo()
	var parts []string
	if ok {
		parts = append(parts, info.GoVersion)
		for _, s := range info.Settings {
			if s.Key == "-tags" || s.Key == "GOEXPERIMENT" || s.Key == "-ldflags" {
				parts = append(parts, s.Key+"="+s.Value)
			}
		}
		for _, d := range info.Deps {
			if d.Path == "github.com/gomlx/gomlx" || d.Path == "github.com/janpfeifer/gonb" {
				parts = append(parts, d.Path[strings.LastIndex(d.Path, "/")+1:]+" "+d.Version)
			}
		}
	}
	fmt.Printf("%s; backend %s; %d epochs per experiment\n", strings.Join(parts, ", "), BackendName(), Epochs(35))
	path, js, err := plotlyJS()
	if err != nil {
		fmt.Printf("Curves: PNG images only (%v).\n", err)
		return
	}
	version := plotlyVersion.FindString(js[:min(len(js), 200)])
	display(map[protocol.MIMEType]any{protocol.MIMETextHTML: fmt.Sprintf(`<div class="mnistfc-plotly-loader" style="font-family:monospace">interactive curves: plotly.js %s (%s)</div><script data-mnistfc-plotly="%s">%s</script>`,
		html.EscapeString(version), html.EscapeString(filepath.Base(path)), html.EscapeString(version), scriptSafe(js))})
}

var plotlyVersion = regexp.MustCompile(`v\d+\.\d+\.\d+`)

// plotlyJS returns the path and text of plotly.js: $MNISTFC_PLOTLY_JS, or
// the npm install of the repository around the notebook.
func plotlyJS() (path, js string, err error) {
	path = os.Getenv(PlotlyEnv)
	if path == "" {
		root := repositoryRoot()
		if root == "" {
			return "", "", fmt.Errorf("$%s is unset and no repository is above $GONB_DIR", PlotlyEnv)
		}
		path = filepath.Join(root, plotlyNPMPath)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("plotly.js is not installed: %w; `make node-tools` installs it", err)
	}
	return path, string(b), nil
}

// scriptSafe returns s so that it can stand inside a <script> element:
// "</" cannot end it early.
func scriptSafe(s string) string { return strings.ReplaceAll(s, "</", `<\/`) }

// figureHTML returns an interactive figure: a <div> that plotly.js draws
// fig into (a Plotly figure, as plotting.CurvesFigure returns), holding the
// PNG image png (if not nil) for viewers without JavaScript or plotly.js.
func figureHTML(id string, fig, png []byte, alt string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<div class="mnistfc-figure" id="%s">`, id)
	if png != nil {
		fmt.Fprintf(&b, `<img alt="%s" style="max-width:100%%" src="data:image/png;base64,%s">`, html.EscapeString(alt), base64PNG(png))
	}
	b.WriteString(`</div>`)
	fmt.Fprintf(&b, `<script type="application/json" id="%s-data">%s</script>`, id, scriptSafe(string(fig)))
	fmt.Fprintf(&b, `<script>(function () {
  var el = document.getElementById(%q), fig = JSON.parse(document.getElementById(%q).textContent);
  if (!window.Plotly) { return; }
  el.innerHTML = "";
  window.Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true});
})();</script>`, id, id+"-data")
	return b.String()
}

// showFigure updates the output with the display id displayID (created
// the first time) to the figure's html and, for viewers that pick images,
// png as well.
func showFigure(displayID, html string, png []byte) {
	if gonbui.IsNotebook {
		gonbui.SendData(&protocol.DisplayData{Data: figureData(html, png), DisplayID: displayID})
	}
}

// figureData is a figure's output: html, and png (if not nil).
func figureData(html string, png []byte) map[protocol.MIMEType]any {
	data := map[protocol.MIMEType]any{protocol.MIMETextHTML: html}
	if png != nil {
		data[protocol.MIMEImagePNG] = png
	}
	return data
}

// Curves displays the accuracy and loss curves of one or more finished
// runs, labelled by names (nil for one run): interactive where plotly.js
// is loaded (Setup), with the PNG image of plotting.Curves or
// plotting.CurvesCompare for viewers that run no JavaScript.
func Curves(histories []mnistfc.History, names []string, title string) {
	png := Must(curvesPNG(histories, names, title))
	fig := Must(plotting.CurvesFigure(histories, names, title))
	display(figureData(figureHTML("mnistfc-fig-"+gonbui.UniqueId(), fig, png, title), png))
}

// curvesPNG draws the curves as a PNG image.
func curvesPNG(histories []mnistfc.History, names []string, title string) ([]byte, error) {
	if names == nil && len(histories) == 1 {
		return plotting.Curves(histories[0], title, plotting.PNG)
	}
	return plotting.CurvesCompare(histories, names, title, plotting.PNG)
}
