package mnistfc

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// batch is a batch of examples as tensors: images x [N, 784] and labels y [N].
type batch struct {
	x, y *tensors.Tensor
}

// makeBatch copies the examples at idx of d into new tensors. On backends
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
	tensors.MustMutableFlatData(x, func(flat []float32) {
		for j, i := range idx {
			copy(flat[j*NumPixels:(j+1)*NumPixels], d.Image(i))
		}
	})
	tensors.MustMutableFlatData(y, func(flat []int32) {
		for j, i := range idx {
			flat[j] = int32(d.Labels[i])
		}
	})
	return &batch{x: x, y: y}, nil
}

func (b *batch) free() {
	b.x.FinalizeAll()
	b.y.FinalizeAll()
}

func shapeF32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
func shapeI32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Int32, dims...) }

// splitIndices cuts order into groups of size indices (the last may be smaller).
func splitIndices(order []int, size int) [][]int {
	groups := make([][]int, 0, (len(order)+size-1)/size)
	for start := 0; start < len(order); start += size {
		groups = append(groups, order[start:min(start+size, len(order))])
	}
	return groups
}

// batchSet is a dataset cut into batches once, for evaluations that go over
// the same examples in the same order every epoch.
type batchSet struct {
	batches  []*batch
	examples int
}

func newBatchSet(backend compute.Backend, d *Dataset, batchSize int) (*batchSet, error) {
	s := &batchSet{examples: d.Len()}
	for _, idx := range splitIndices(identity(d.Len()), batchSize) {
		b, err := makeBatch(backend, d, idx)
		if err != nil {
			s.free()
			return nil, err
		}
		s.batches = append(s.batches, b)
	}
	return s, nil
}

func (s *batchSet) free() {
	for _, b := range s.batches {
		b.free()
	}
	s.batches = nil
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
func prefetch(backend compute.Backend, d *Dataset, groups [][]int) *batchStream {
	s := &batchStream{total: len(groups), ch: make(chan batchOrError, 1), quit: make(chan struct{})}
	go func() {
		defer close(s.ch)
		for _, idx := range groups {
			b, err := makeBatch(backend, d, idx)
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
