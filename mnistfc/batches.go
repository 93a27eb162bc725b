package mnistfc

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// deviceSet is a dataset held by the backend: all its images x [rows, 784],
// raw pixels (uint8), and labels y [rows], sent once per run. The graphs
// pick their batches from it and normalise them (normalise), so no example
// crosses to the backend again. Its n examples may be followed by padding
// (rows > n), never read.
type deviceSet struct {
	x, y    *tensors.Tensor
	n, rows int
}

// upload copies d to the backend, as rows examples: the rows beyond
// d.Len() are padding. (Sets of one row count share the compiled graphs
// that take them whole: the evaluation graph compiled for validation
// serves the test set too, which saves its compile: docs/performance.md,
// "The data path".)
//
// On backends whose buffers Go can write (the pure-Go backend, XLA on the
// CPU) the tensors are filled in place; on the others they are sent and
// their host copy freed.
func upload(backend compute.Backend, d *Dataset, rows int) (*deviceSet, error) {
	n := d.Len()
	if rows < n {
		return nil, fmt.Errorf("internal error: uploading %d examples into %d rows", n, rows)
	}
	x, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Uint8, rows, NumPixels))
	if err != nil {
		return nil, fmt.Errorf("allocating %d images on the backend: %w", n, err)
	}
	y, err := tensors.FromShapeForBackend(backend, 0, shapeI32(rows))
	if err != nil {
		x.FinalizeAll()
		return nil, fmt.Errorf("allocating %d labels on the backend: %w", n, err)
	}
	tensors.MustMutableFlatData(x, func(flat []uint8) { clear(flat[copy(flat, d.Pixels):]) })
	tensors.MustMutableFlatData(y, func(flat []int32) {
		for i, l := range d.Labels {
			flat[i] = int32(l)
		}
		clear(flat[n:])
	})
	s := &deviceSet{x: x, y: y, n: n, rows: rows}
	for _, t := range []*tensors.Tensor{x, y} {
		if err := t.ToDevice(backend, 0); err != nil {
			s.free()
			return nil, fmt.Errorf("sending the dataset to the backend: %w", err)
		}
	}
	return s, nil
}

func (s *deviceSet) free() {
	s.x.FinalizeAll()
	s.y.FinalizeAll()
}

// normalise is Normalise in a graph: x holds raw pixels (uint8). On the
// pure-Go backend its values equal Normalise's bit for bit. XLA's CPU
// backend does not divide float32 exactly (v/255 had another last bit for
// 126 of the 256 values, even with the divisor as a parameter), so there
// they differ by up to 1e-6 (TestXLACPUNormaliseGraph).
func normalise(x *graph.Node) *graph.Node {
	g := x.Graph()
	c := func(v float32) *graph.Node { return graph.Scalar(g, dtypes.Float32, v) }
	// Div, not DivScalar: GoMLX's DivScalar multiplies by the inverse.
	return graph.Div(graph.Sub(graph.Div(graph.ConvertDType(x, dtypes.Float32), c(255)), c(pixelMean)), c(pixelStd))
}

// batchSizes returns the sizes of the batches that cut n examples into
// batches of size (the last may be smaller).
func batchSizes(n, size int) []int {
	sizes := make([]int, 0, (n+size-1)/size)
	for start := 0; start < n; start += size {
		sizes = append(sizes, min(size, n-start))
	}
	return sizes
}

func shapeF32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
func shapeI32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Int32, dims...) }

// record writes a step's loss and accuracy into row step of stats
// [steps, 2]: the sums stay on the backend until the epoch ends.
func record(stats, step, loss, acc *graph.Node) *graph.Node {
	row := graph.Reshape(graph.Stack([]*graph.Node{loss, acc}, 0), 1, 2)
	return graph.DynamicUpdateSlice(stats, row, []*graph.Node{step, graph.ScalarZero(stats.Graph(), dtypes.Int32)})
}

// readStats reads the [steps, 2] losses and accuracies of a pass, once,
// and frees them.
func readStats(stats *tensors.Tensor) (losses, accs []float64, err error) {
	flat, err := tensors.CopyFlatData[float32](stats)
	stats.FinalizeAll()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the losses: %w", err)
	}
	for i := 0; i+1 < len(flat); i += 2 {
		losses = append(losses, float64(flat[i]))
		accs = append(accs, float64(flat[i+1]))
	}
	return losses, accs, nil
}

// mean returns the mean of xs, summed in order (0 for none).
func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(max(len(xs), 1))
}

// scalarI32 returns an int32 scalar tensor.
func scalarI32(v int) *tensors.Tensor { return tensors.FromScalar(int32(v)) }

// batch is a batch of examples as tensors: images x [N, 784] and labels y [N].
type batch struct {
	x, y *tensors.Tensor
}

// makeBatch copies the examples at idx of d, normalised, into new
// tensors. (Normalising here, on the host, keeps it off the step: the
// batches are filled while the previous step runs.) On backends
// with buffers shared with Go (the pure-Go backend, XLA on CPU) the tensors
// are created there, so the step reads them with no further copy.
func makeBatch(backend compute.Backend, d *Dataset, idx []int) (*batch, error) {
	x, err := tensors.FromShapeForBackend(backend, 0, shapeF32(len(idx), NumPixels))
	if err != nil {
		return nil, fmt.Errorf("allocating a batch: %w", err)
	}
	y, err := tensors.FromShapeForBackend(backend, 0, shapeI32(len(idx)))
	if err != nil {
		x.FinalizeAll()
		return nil, fmt.Errorf("allocating a batch: %w", err)
	}
	b := &batch{x: x, y: y}
	b.fill(d, idx)
	return b, nil
}

// fill copies the examples at idx of d, normalised, into b, whose size is len(idx).
func (b *batch) fill(d *Dataset, idx []int) {
	x, y := b.x, b.y
	tensors.MustMutableFlatData(x, func(flat []float32) {
		for j, i := range idx {
			normaliseInto(flat[j*NumPixels:(j+1)*NumPixels], d.pixels(i))
		}
	})
	tensors.MustMutableFlatData(y, func(flat []int32) {
		for j, i := range idx {
			flat[j] = int32(d.Labels[i])
		}
	})
}

// size is the number of examples of b.
func (b *batch) size() int { return b.y.Shape().Dimensions[0] }

func (b *batch) free() {
	b.x.FinalizeAll()
	b.y.FinalizeAll()
}

// splitIndices cuts order into groups of size indices (the last may be smaller).
func splitIndices(order []int, size int) [][]int {
	groups := make([][]int, 0, (len(order)+size-1)/size)
	for start := 0; start < len(order); start += size {
		groups = append(groups, order[start:min(start+size, len(order))])
	}
	return groups
}

// batchStream hands out the training batches of one epoch, each built by a
// goroutine while the previous one trains, so that copying examples
// overlaps computing.
type batchStream struct {
	total int
	ch    chan batchOrError
	quit  chan struct{}
}

type batchOrError struct {
	b   *batch
	err error
}

// prefetch starts building the batches of d for groups of indices, one ahead of the consumer.
//
// Batches given back to spare (after their step) are filled again rather
// than allocated: on the pure-Go backend a new batch's buffer is zeroed
// before the copy, which shows in a profile of an epoch
// (docs/performance.md, "Where the pure-Go backend's time goes").
func prefetch(backend compute.Backend, d *Dataset, groups [][]int, spare chan *batch) *batchStream {
	s := &batchStream{total: len(groups), ch: make(chan batchOrError, 1), quit: make(chan struct{})}
	go func() {
		defer close(s.ch)
		for _, idx := range groups {
			var b *batch
			var err error
			select {
			case b = <-spare:
			default:
			}
			if b != nil && b.size() == len(idx) {
				b.fill(d, idx)
			} else {
				if b != nil {
					b.free()
				}
				b, err = makeBatch(backend, d, idx)
			}
			select {
			case s.ch <- batchOrError{b, err}:
			case <-s.quit:
				if b != nil {
					b.free()
				}
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

// next returns the next batch; the caller frees it.
func (s *batchStream) next() (*batch, error) {
	r, ok := <-s.ch
	if !ok {
		return nil, fmt.Errorf("internal error: batch stream ended early")
	}
	return r.b, r.err
}

// stop ends the stream and frees the batches not taken.
func (s *batchStream) stop() {
	close(s.quit)
	for r := range s.ch {
		if r.b != nil {
			r.b.free()
		}
	}
}
