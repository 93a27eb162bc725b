package mnistfc

import (
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io/fs"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// fingerprintVersion names the layout of what Fingerprint hashes.
const fingerprintVersion = "mnistfc run v2"

// sources holds this package's Go files, test files too (an embed pattern
// cannot leave them out; codeVersion does).
//
//go:embed *.go
var sources embed.FS

// codeVersion is a digest of this package's code (its Go files but the
// tests): any change to what Train does, in the training loop, the data
// split or the evaluation, gives new fingerprints, and runs kept by an
// older version of the library are not taken for new ones.
var codeVersion = sync.OnceValue(func() string {
	h := sha256.New()
	files, _ := fs.Glob(sources, "*.go") // Sorted.
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, _ := sources.ReadFile(name)
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
})

// fingerprintRows is the size of the batch the network is probed with.
const fingerprintRows = 16

// Fingerprint returns a digest that identifies the run that
// Train(ctx, cfg, WithNetwork(net)) makes: two calls with the same fingerprint
// train the same network from the same initial weights with the same
// settings, so with a fixed seed they give the same numbers on the same
// backend. Notebooks use it to keep finished runs and show them again
// instead of training them again.
//
// It hashes the configuration (with its backend resolved as Train resolves
// it), this package's code and the GoMLX version, the network's initial
// weights, and what the network computes from them on a fixed batch: the
// probabilities, the loss and the loss's gradients. For the network it
// looks at what the code computes, not at its text or its Name: a new
// comment in a notebook's cell keeps the fingerprint, a sigmoid edited into
// a ReLU changes it; a new version of this library changes every one. It
// runs on the pure-Go backend (a small graph, compiled in milliseconds)
// whatever cfg.Backend says.
func Fingerprint(cfg Config, net Network) (string, error) {
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	if err := net.check(); err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(fingerprintVersion + "\n" + codeVersion() + "\n" + gomlxVersion() + "\n"))
	cfg.Backend = backends.Resolve(cfg.Backend)
	settings, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	h.Write(settings)

	backend, err := backends.New(backends.Default)
	if err != nil {
		return "", err
	}
	store := model.NewStore()
	if err := seedStore(store, cfg.Seed); err != nil {
		return "", err
	}
	if _, err := presetWeights(store, backend, cfg); err != nil {
		return "", err
	}
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		probs := net.probabilities(net.Logits(scope, in[0]), cfg.Softmax)
		loss := net.scalarLoss(probs, oneHot(in[1]))
		return append([]*graph.Node{probs, loss}, scope.BuildTrainableVariablesGradientsGraph(loss)...)
	})
	if err != nil {
		return "", fmt.Errorf("fingerprint of network %q: %w", net.Name, err)
	}
	defer exec.Finalize()
	x, labels := probeBatch()
	outputs, err := exec.Exec(x, labels)
	if err != nil {
		return "", fmt.Errorf("fingerprint of network %q: %w", net.Name, err)
	}
	initial, err := storeWeights(store)
	if err != nil {
		return "", err
	}
	for _, w := range initial {
		fmt.Fprintf(h, "%s %v\n", w.Name, w.Dims)
		hashFloats(h, w.Values)
	}
	for _, t := range outputs {
		values, err := tensors.CopyFlatData[float32](t)
		t.FinalizeAll()
		if err != nil {
			return "", fmt.Errorf("fingerprint of network %q: %w", net.Name, err)
		}
		fmt.Fprintf(h, "%v\n", t.Shape().Dimensions)
		hashFloats(h, values)
	}
	return hex.EncodeToString(h.Sum(nil))[:20], nil
}

// probeBatch returns the fixed batch Fingerprint feeds the network: pixels
// drawn from a fixed generator, normalised as the training images are, and
// the labels 0..9 in turn.
func probeBatch() (x, labels *tensors.Tensor) {
	r := rand.New(rand.NewPCG(20, 24))
	pixels := make([]float32, fingerprintRows*NumPixels)
	for i := range pixels {
		pixels[i] = Normalise(uint8(r.IntN(256)))
	}
	ys := make([]int32, fingerprintRows)
	for i := range ys {
		ys[i] = int32(i % NumClasses)
	}
	return tensors.FromFlatDataAndDimensions(pixels, fingerprintRows, NumPixels), tensors.FromFlatDataAndDimensions(ys, fingerprintRows)
}

// hashFloats writes the bits of values to h.
func hashFloats(h hash.Hash, values []float32) {
	buf := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	h.Write(buf)
}

// gomlxVersion returns the versions of GoMLX and its compute module this
// program is built with, or "" when the build has no module information.
func gomlxVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var parts []string
	for _, d := range info.Deps {
		if d.Path == "github.com/gomlx/gomlx" || d.Path == "github.com/gomlx/compute" {
			parts = append(parts, d.Path+"@"+d.Version)
		}
	}
	return strings.Join(parts, " ")
}
