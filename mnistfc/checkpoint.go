package mnistfc

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Model is a trained network ready to predict: its weights and the
// softmax and batch size its probabilities were computed with.
type Model struct {
	Params    *Params
	Softmax   SoftmaxMode
	BatchSize int // Examples per forward pass; matters for SoftmaxBatch, which normalises over the batch.
}

// Model returns the best model of a run.
func (r *Result) Model() *Model {
	return &Model{Params: r.Best, Softmax: r.Config.Softmax, BatchSize: r.Config.TestBatchSize}
}

// A model file is the line "mnistfc-model v1", a JSON header line, then the
// float32 weights W1, B1, W2, B2 in little-endian order.
const modelMagic = "mnistfc-model v1\n"

type modelHeader struct {
	Hidden    int         `json:"hidden"`
	Softmax   SoftmaxMode `json:"softmax"`
	BatchSize int         `json:"batch_size"`
	Inputs    int         `json:"inputs"`
	Classes   int         `json:"classes"`
}

// SaveModel writes m to path, replacing the file only once it is complete.
func SaveModel(path string, m *Model) error {
	if m == nil || m.Params == nil {
		return errors.New("saving model: no weights (did training validate at least once?)")
	}
	if err := m.Params.check(); err != nil {
		return fmt.Errorf("saving model to %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".model-*")
	if err != nil {
		return fmt.Errorf("saving model: %w", err)
	}
	defer os.Remove(tmp.Name()) // No-op after the rename.
	w := bufio.NewWriter(tmp)
	header, _ := json.Marshal(modelHeader{Hidden: m.Params.Hidden, Softmax: m.Softmax, BatchSize: m.BatchSize, Inputs: NumPixels, Classes: NumClasses})
	w.WriteString(modelMagic)
	w.Write(append(header, '\n'))
	for _, v := range [][]float32{m.Params.W1, m.Params.B1, m.Params.W2, m.Params.B2} {
		if err := binary.Write(w, binary.LittleEndian, v); err != nil {
			tmp.Close()
			return fmt.Errorf("saving model to %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving model to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving model to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving model: %w", err)
	}
	return nil
}

// LoadModel reads a model written by SaveModel.
func LoadModel(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading model: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	magic, err := r.ReadString('\n')
	if err != nil || magic != modelMagic {
		return nil, fmt.Errorf("%s: not an mnistfc model file (first line %q, want %q)", path, magic, modelMagic[:len(modelMagic)-1])
	}
	line, err := r.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("%s: reading header: %w", path, truncated(err))
	}
	var h modelHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, fmt.Errorf("%s: bad header: %w", path, err)
	}
	if h.Inputs != NumPixels || h.Classes != NumClasses || h.Hidden < 1 || h.Hidden > 1<<20 {
		return nil, fmt.Errorf("%s: header describes a %d -> %d -> %d network, want %d -> H -> %d", path, h.Inputs, h.Hidden, h.Classes, NumPixels, NumClasses)
	}
	p := &Params{Hidden: h.Hidden}
	for _, dst := range []struct {
		v *[]float32
		n int
	}{{&p.W1, NumPixels * h.Hidden}, {&p.B1, h.Hidden}, {&p.W2, h.Hidden * NumClasses}, {&p.B2, NumClasses}} {
		*dst.v = make([]float32, dst.n)
		if err := binary.Read(r, binary.LittleEndian, *dst.v); err != nil {
			return nil, fmt.Errorf("%s: reading weights: %w", path, truncated(err))
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%s: unexpected data after the weights", path)
	}
	batch := h.BatchSize
	if batch < 1 {
		batch = DefaultConfig().TestBatchSize
	}
	return &Model{Params: p, Softmax: h.Softmax, BatchSize: batch}, nil
}

// Predict returns the class probabilities of every example of d (NumClasses
// per example) and the most probable class of each, computed on the named
// backend ("" for the default) in batches of m.BatchSize.
func (m *Model) Predict(d *Dataset, backend string) (preds []uint8, probs []float32, err error) {
	b, err := NewBackend(backend)
	if err != nil {
		return nil, nil, err
	}
	net, err := newNetwork(b, m.Params, m.Softmax)
	if err != nil {
		return nil, nil, err
	}
	batchSize := m.BatchSize
	if batchSize < 1 {
		batchSize = DefaultConfig().TestBatchSize
	}
	set, err := newBatchSet(b, d, batchSize)
	if err != nil {
		return nil, nil, err
	}
	defer set.free()
	_, _, probs, err = evaluate(net, set, PhaseTest, nil)
	if err != nil {
		return nil, nil, err
	}
	return ArgMaxRows(probs), probs, nil
}
