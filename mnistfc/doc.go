// Package mnistfc trains the fully-connected MNIST network of a classic
// course assignment, 784 inputs → H sigmoid units → 10 softmax outputs with
// the cross-entropy loss and plain SGD, with GoMLX, and reproduces the
// numbers of the original PyTorch notebook.
//
// A run goes through four stages:
//
//   - Data: LoadData reads MNIST (or a data set laid out like it, such as
//     Fashion-MNIST) and splits off a validation set, into a Data of three
//     Datasets.
//   - Model: a Network maps a batch of images to logits with GoMLX.
//     FullyConnected is the assignment's, built from Linear, Sigmoid,
//     Softmax and CrossEntropy; a caller can write its own from the same
//     parts (HeLinear for ReLU layers). Params holds FullyConnected's
//     weights as plain slices; InitParams gives its initial ones.
//   - Training: Train trains one Config (DefaultConfig is the original's
//     best experiment) with Options for the data, the network, a log and
//     progress callbacks; Sweep trains many configurations on data loaded
//     once, Configs and Grid build them.
//   - Results: a Result holds the curves (History), the test numbers and
//     the best Weights; Result.Model gives a Model to save (SaveModel),
//     load (LoadModel) and run on new images; Result.Summary and Aggregate
//     condense a sweep into a table.
//
// A run is reproducible: with the same Config, seed included, it gives the
// same numbers on the same backend. Config.Init = InitTorch starts from the
// weights the original's PyTorch code draws and shuffles its batches in
// PyTorch's order (package torchcompat emulates its generator), and
// SoftmaxBatch keeps the original's softmax, which normalises over the
// batch instead of the classes.
//
// Config.Backend names the GoMLX backend: "go" (pure Go, always there),
// "xla:cpu", "xla:cuda", "onnx"; empty means $GOMLX_BACKEND, else the
// fastest installed. Nothing is downloaded at run time. A run whose loss
// becomes NaN stops and is marked Diverged; its JSON writes the NaN
// numbers as null and reads them back as NaN.
package mnistfc
