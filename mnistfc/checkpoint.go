package mnistfc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mnistfc/mnistfc/internal/atomicfile"
	"github.com/mnistfc/mnistfc/internal/backends"
)

// Model is a trained network ready to predict: the network, its weights,
// and the softmax and batch size its probabilities were computed with.
type Model struct {
	Network   Network // Not saved: LoadModel rebuilds FullyConnected; set it for other networks.
	Weights   Weights
	Softmax   SoftmaxMode
	BatchSize int // Examples per forward pass; matters for SoftmaxBatch, which normalises over the batch.
}

// Model returns the best model of a run (nil if it has none).
func (r *Result) Model(net Network) *Model {
	if r.Best == nil {
		return nil
	}
	return &Model{Network: net, Weights: r.Best, Softmax: r.Config.Softmax, BatchSize: r.Config.TestBatchSize}
}

// A model file is the line "mnistfc-model v2", a JSON header line naming
// the network and its weights' names and shapes, then the float32 values of
// every weight, in the header's order, little-endian.
const (
	modelMagicPrefix = "mnistfc-model "
	modelVersion     = "v2"
	modelMagic       = modelMagicPrefix + modelVersion + "\n"
)

type modelHeader struct {
	Network   string      `json:"network"`
	Softmax   SoftmaxMode `json:"softmax"`
	BatchSize int         `json:"batch_size"`
	Weights   []Weight    `json:"weights"`
}

// SaveModel writes m to path atomically: a temporary file in the same folder,
// renamed over path once complete, so a good file is never left half-written.
func SaveModel(path string, m *Model) error {
	if m == nil || len(m.Weights) == 0 {
		return fmt.Errorf("saving model to %s: no weights (no epoch was validated)", path)
	}
	var buf bytes.Buffer
	header, err := json.Marshal(modelHeader{Network: m.Network.Name, Softmax: m.Softmax, BatchSize: m.BatchSize, Weights: m.Weights})
	if err != nil {
		return fmt.Errorf("saving model to %s: %w", path, err)
	}
	buf.WriteString(modelMagic)
	buf.Write(append(header, '\n'))
	for _, w := range m.Weights {
		if n := product(w.Dims); n != len(w.Values) {
			return fmt.Errorf("saving model to %s: weight %s has %d values for shape %v", path, w.Name, len(w.Values), w.Dims)
		}
		_ = binary.Write(&buf, binary.LittleEndian, w.Values)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

func product(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// LoadModel reads a model written by SaveModel. For a FullyConnected
// network it also rebuilds the Network; for others the caller sets it.
func LoadModel(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading model: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	magic, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(magic, modelMagicPrefix) {
		return nil, fmt.Errorf("%s: not an mnistfc model file (it starts with %q, want %q)", path, truncate(magic, 40), strings.TrimSpace(modelMagic))
	}
	if magic != modelMagic {
		return nil, fmt.Errorf("%s: model file format %s, this program reads %s; retrain the model to write it again",
			path, strings.TrimSpace(strings.TrimPrefix(magic, modelMagicPrefix)), modelVersion)
	}
	line, err := r.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("%s: reading header: %w", path, truncated(err))
	}
	var h modelHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, fmt.Errorf("%s: bad header: %w", path, err)
	}
	if len(h.Weights) == 0 {
		return nil, fmt.Errorf("%s: header lists no weights", path)
	}
	m := &Model{Softmax: h.Softmax, BatchSize: h.BatchSize, Weights: h.Weights}
	for i := range m.Weights {
		w := &m.Weights[i]
		n := product(w.Dims)
		if n < 1 || n > 1<<28 {
			return nil, fmt.Errorf("%s: weight %q has shape %v", path, w.Name, w.Dims)
		}
		w.Values = make([]float32, n)
		if err := binary.Read(r, binary.LittleEndian, w.Values); err != nil {
			return nil, fmt.Errorf("%s: reading weight %q: %w", path, w.Name, truncated(err))
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%s: unexpected data after the weights", path)
	}
	if m.BatchSize < 1 {
		m.BatchSize = DefaultConfig().TestBatchSize
	}
	if p, err := m.Weights.Params(); err == nil && h.Network == FullyConnected(p.Hidden).Name {
		m.Network = FullyConnected(p.Hidden)
	} else {
		m.Network.Name = h.Network
	}
	return m, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Predict returns the class probabilities of every example of d (NumClasses
// per example) and the most probable class of each, computed on the named
// backend ("" for the default) in batches of m.BatchSize.
func (m *Model) Predict(d *Dataset, backend string) (preds []uint8, probs []float32, err error) {
	_, _, probs, err = m.evaluate(d, backend)
	if err != nil {
		return nil, nil, err
	}
	return argMaxRows(probs), probs, nil
}

// Evaluate returns the loss and accuracy of m on d, each the mean over
// batches of m.BatchSize, as Train reports them.
func (m *Model) Evaluate(d *Dataset, backend string) (loss, acc float64, err error) {
	loss, acc, _, err = m.evaluate(d, backend)
	return loss, acc, err
}

func (m *Model) evaluate(d *Dataset, backend string) (loss, acc float64, probs []float32, err error) {
	if err := m.Network.check(); err != nil {
		return 0, 0, nil, fmt.Errorf("evaluating a model: %w (set Model.Network)", err)
	}
	b, err := backends.New(backend)
	if err != nil {
		return 0, 0, nil, err
	}
	eval, err := newEvaluatorFor(b, m.Network, m.Weights, m.Softmax)
	if err != nil {
		return 0, 0, nil, err
	}
	set, err := upload(b, d, d.Len())
	if err != nil {
		return 0, 0, nil, err
	}
	defer set.free()
	defer eval.finalize()
	return eval.evaluate(set, max(m.BatchSize, 1), PhaseTest, nil)
}
