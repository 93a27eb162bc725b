// Package gomatmul holds a reproducer for the speed of the matrix products
// of one training step of the assignment's network (hidden 100, batch
// 1000) on GoMLX's pure-Go backend, small enough to report upstream
// (github.com/gomlx/compute): each product alone, as the graphs of
// mnistfc compute them, in GFLOP/s. $GOMLX_BACKEND times them on another
// backend (scripts/profile.sh does, on xla:cpu).
//
//	GOEXPERIMENT=simd go test -run '^$' -bench . ./bench/gomatmul
//	GOEXPERIMENT=simd go test -run '^$' -bench 'Matmul/dW1' -cpuprofile /tmp/mm.prof ./bench/gomatmul
//	GOMLX_BACKEND=xla:cpu GOEXPERIMENT=simd go test -run '^$' -bench . ./bench/gomatmul
package gomatmul

import (
	"os"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// product is one matrix product: lhs and rhs shapes and their contracting axes.
type product struct {
	name             string
	lhs, rhs         []int
	lhsAxis, rhsAxis int
}

// The products of one step of mnistfc.FullyConnected(100) on a batch of
// 1000, in the layout of mnistfc's dense layer ((W·xᵀ)ᵀ) and its gradients.
var products = []product{
	{name: "forward1 W1[100,784]·x[1000,784]^T", lhs: []int{100, 784}, rhs: []int{1000, 784}, lhsAxis: 1, rhsAxis: 1},
	{name: "dW1 dZ1[100,1000]·x[1000,784]", lhs: []int{100, 1000}, rhs: []int{1000, 784}, lhsAxis: 1, rhsAxis: 0},
	{name: "forward2 W2[10,100]·h[1000,100]^T", lhs: []int{10, 100}, rhs: []int{1000, 100}, lhsAxis: 1, rhsAxis: 1},
	{name: "dW2 dZ2[10,1000]·h[1000,100]", lhs: []int{10, 1000}, rhs: []int{1000, 100}, lhsAxis: 1, rhsAxis: 0},
	{name: "dH dZ2[10,1000]^T·W2[10,100]", lhs: []int{10, 1000}, rhs: []int{10, 100}, lhsAxis: 0, rhsAxis: 0},
	{name: "for comparison x[1000,784]·W1[784,100]", lhs: []int{1000, 784}, rhs: []int{784, 100}, lhsAxis: 1, rhsAxis: 0},
}

func BenchmarkMatmul(b *testing.B) {
	name := os.Getenv("GOMLX_BACKEND")
	if name == "" {
		name = "go"
	}
	backend, err := backends.New(name)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range products {
		b.Run(p.name, func(b *testing.B) {
			exec, err := graph.NewExec(backend, func(x, y *graph.Node) *graph.Node {
				return graph.DotGeneral(x, []int{p.lhsAxis}, nil, y, []int{p.rhsAxis}, nil)
			})
			if err != nil {
				b.Fatal(err)
			}
			lhs := tensors.FromShape(shapeOf(p.lhs))
			rhs := tensors.FromShape(shapeOf(p.rhs))
			contract := p.lhs[p.lhsAxis]
			flops := 2 * float64(p.lhs[0]*p.lhs[1]/contract) * float64(p.rhs[0]*p.rhs[1]/contract) * float64(contract)
			for i := 0; i < 3; i++ { // Warm up and compile.
				exec.MustExec(lhs, rhs)[0].FinalizeAll()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				exec.MustExec(lhs, rhs)[0].FinalizeAll()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func shapeOf(dims []int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
