package mnistfc

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxBytes builds an IDX file: magic, big-endian dimensions, data.
func idxBytes(magic uint32, dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	binary.Write(&b, binary.BigEndian, dims)
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// synthetic returns n 28x28 images whose pixel values encode the image index, and labels i%10.
func synthetic(n int) (images, labels []byte) {
	images = make([]byte, n*NumPixels)
	labels = make([]byte, n)
	for i := range n {
		for p := range NumPixels {
			images[i*NumPixels+p] = byte(i*7 + p)
		}
		labels[i] = byte(i % NumClasses)
	}
	return images, labels
}

func TestReadDataset(t *testing.T) {
	images, labels := synthetic(3)
	for _, compress := range []bool{false, true} {
		dir := t.TempDir()
		enc, suffix := func(b []byte) []byte { return b }, ""
		if compress {
			enc, suffix = gz, ".gz"
		}
		ip := writeFile(t, dir, "img"+suffix, enc(idxBytes(idxImagesMagic, []uint32{3, 28, 28}, images)))
		lp := writeFile(t, dir, "lbl"+suffix, enc(idxBytes(idxLabelsMagic, []uint32{3}, labels)))
		ds, err := readDataset(ip, lp)
		if err != nil {
			t.Fatalf("gzip=%v: %v", compress, err)
		}
		if ds.Len() != 3 || !slices.Equal(ds.Labels, labels) {
			t.Fatalf("gzip=%v: got %d examples, labels %v", compress, ds.Len(), ds.Labels)
		}
		if !slices.Equal(ds.Pixels, images) {
			t.Errorf("gzip=%v: the pixels differ from the file's", compress)
		}
		for _, i := range []int{0, 1, 2} {
			for p, v := range ds.Image(i) {
				if want := Normalise(images[i*NumPixels+p]); v != want {
					t.Fatalf("gzip=%v: Image(%d)[%d] = %v, want Normalise(%d) = %v", compress, i, p, v, images[i*NumPixels+p], want)
				}
			}
		}
	}
}

// Normalise gives PyTorch's values: torchvision's ToTensor then
// Normalize((0.1307,), (0.3081,)) on a 16x16 image holding the pixel
// values 0..255 (Debian's torch 1.13), as float32 bits. Each of these
// differs from the same formula computed in float64 and then rounded.
func TestNormaliseMatchesTorchvision(t *testing.T) {
	torch := map[uint8]uint32{0: 0xbed93271, 1: 0xbed2ae20, 2: 0xbecc29d0, 3: 0xbec5a57f,
		128: 0x3f9a3d7a, 200: 0x4007c593, 254: 0x4033c2b3, 255: 0x4034933d}
	for v, bits := range torch {
		if got := Normalise(v); math.Float32bits(got) != bits {
			t.Errorf("Normalise(%d) = %v (%#08x), PyTorch gives %v (%#08x)", v, got, math.Float32bits(got), math.Float32frombits(bits), bits)
		}
	}
}

func TestReadDatasetErrors(t *testing.T) {
	images, labels := synthetic(4)
	goodImages := idxBytes(idxImagesMagic, []uint32{4, 28, 28}, images)
	goodLabels := idxBytes(idxLabelsMagic, []uint32{4}, labels)
	tests := []struct {
		name           string
		images, labels []byte // nil: file missing.
		want           []string
	}{
		{"missing images", nil, goodLabels, []string{"images.idx", "no such file"}},
		{"missing labels", goodImages, nil, []string{"labels.idx", "no such file"}},
		{"wrong image magic", idxBytes(0x00000804, []uint32{4, 28, 28}, images), goodLabels, []string{"images.idx", "magic number 0x00000804"}},
		{"labels given as images", goodLabels, goodLabels, []string{"images.idx", "magic number 0x00000801"}},
		{"wrong label magic", goodImages, idxBytes(0x00000803, []uint32{4}, labels), []string{"labels.idx", "magic number"}},
		{"truncated images", goodImages[:len(goodImages)-100], goodLabels, []string{"images.idx", "truncated"}},
		{"truncated header", goodImages[:6], goodLabels, []string{"images.idx", "truncated"}},
		{"empty file", []byte{}, goodLabels, []string{"images.idx", "truncated"}},
		{"count mismatch", goodImages, idxBytes(idxLabelsMagic, []uint32{3}, labels[:3]), []string{"3 labels", "4 images"}},
		{"wrong image size", idxBytes(idxImagesMagic, []uint32{4, 32, 24}, make([]byte, 4*32*24)), goodLabels, []string{"images.idx", "32x24", "want 28x28"}},
		{"label out of range", goodImages, idxBytes(idxLabelsMagic, []uint32{4}, []byte{1, 2, 10, 3}), []string{"labels.idx", "label 10"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ip, lp := filepath.Join(dir, "images.idx"), filepath.Join(dir, "labels.idx")
			if tc.images != nil {
				writeFile(t, dir, "images.idx", tc.images)
			}
			if tc.labels != nil {
				writeFile(t, dir, "labels.idx", tc.labels)
			}
			_, err := readDataset(ip, lp)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadMNISTFromFolder(t *testing.T) {
	dir := t.TempDir()
	images, labels := synthetic(20)
	writeFile(t, dir, trainImagesFile, idxBytes(idxImagesMagic, []uint32{20, 28, 28}, images))
	writeFile(t, dir, trainLabelsFile+".gz", gz(idxBytes(idxLabelsMagic, []uint32{20}, labels)))
	writeFile(t, dir, testImagesFile+".gz", gz(idxBytes(idxImagesMagic, []uint32{10, 28, 28}, images[:10*NumPixels])))
	writeFile(t, dir, testLabelsFile, idxBytes(idxLabelsMagic, []uint32{10}, labels[:10]))
	train, test, err := loadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 20 || test.Len() != 10 {
		t.Errorf("got %d train and %d test examples, want 20 and 10", train.Len(), test.Len())
	}
	os.Remove(filepath.Join(dir, testLabelsFile))
	if _, _, err := loadMNIST(dir); err == nil || !strings.Contains(err.Error(), testLabelsFile) {
		t.Errorf("missing test labels: error %v does not name %s", err, testLabelsFile)
	}
	if _, _, err := loadMNIST(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing folder: error %v does not name it", err)
	}
}

func TestOfficialMNIST(t *testing.T) {
	train, test, err := loadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 {
		t.Fatalf("official MNIST: %d train, %d test images, want 60000 and 10000", train.Len(), test.Len())
	}
	// The first training labels of MNIST are 5, 0, 4, 1, 9.
	if !slices.Equal(train.Labels[:5], []uint8{5, 0, 4, 1, 9}) {
		t.Errorf("first labels %v, want [5 0 4 1 9]", train.Labels[:5])
	}
}

func TestChecksumMismatch(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, trainLabelsFile+".gz", []byte("not the real file"))
	if _, err := findIDX(dir, trainLabelsFile, true); err == nil || !strings.Contains(err.Error(), "MD5") || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupted official file: error %v should name the file and the checksum", err)
	}
}

func TestSplit(t *testing.T) {
	images, labels := synthetic(1000)
	d := &Dataset{Pixels: tagged(images), Labels: labels}
	ids := func(s *Dataset) []int {
		v := make([]int, s.Len())
		for i := range v {
			v[i] = tag(s, i)
		}
		return v
	}
	tests := []struct {
		ratio            float64
		wantTrain, wantV int
	}{{0.15, 850, 150}, {0.5, 500, 500}, {0.0015, 998, 2}, {0.999, 1, 999}}
	for _, tc := range tests {
		tr, val, err := split(d, tc.ratio, 7)
		if err != nil {
			t.Fatalf("ratio %v: %v", tc.ratio, err)
		}
		if tr.Len() != tc.wantTrain || val.Len() != tc.wantV {
			t.Errorf("ratio %v: sizes %d/%d, want %d/%d", tc.ratio, tr.Len(), val.Len(), tc.wantTrain, tc.wantV)
		}
		seen := map[int]bool{}
		for _, id := range append(ids(tr), ids(val)...) {
			if seen[id] {
				t.Fatalf("ratio %v: example %d is in both sets or twice", tc.ratio, id)
			}
			seen[id] = true
		}
		if len(seen) != d.Len() {
			t.Errorf("ratio %v: the split covers %d of %d examples", tc.ratio, len(seen), d.Len())
		}
		// Labels travel with their images.
		for i, id := range ids(val) {
			if val.Labels[i] != labels[id] {
				t.Fatalf("ratio %v: validation example %d has label %d, want %d", tc.ratio, id, val.Labels[i], labels[id])
			}
		}
	}
	a, _, _ := split(d, 0.15, 1)
	b, _, _ := split(d, 0.15, 1)
	c, _, _ := split(d, 0.15, 2)
	if !slices.Equal(ids(a), ids(b)) {
		t.Error("same seed gave different splits")
	}
	if slices.Equal(ids(a), ids(c)) {
		t.Error("different seeds gave the same split")
	}
	for _, bad := range []float64{0, 1, 1.5, -0.1} {
		if _, _, err := split(d, bad, 1); err == nil {
			t.Errorf("ratio %v: no error", bad)
		}
	}
}

// splitInPlace (LoadData's) gives the same two sets as Split.
func TestSplitInPlaceMatchesSplit(t *testing.T) {
	images, labels := synthetic(1000)
	for _, ratio := range []float64{0.15, 0.5, 0.999} {
		d := &Dataset{Pixels: tagged(images), Labels: slices.Clone(labels)}
		wantTr, wantVal, err := split(d, ratio, 3)
		if err != nil {
			t.Fatal(err)
		}
		tr, val, err := splitInPlace(d, ratio, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name      string
			got, want *Dataset
		}{{"train", tr, wantTr}, {"validation", val, wantVal}} {
			if !slices.Equal(c.got.Pixels, c.want.Pixels) || !slices.Equal(c.got.Labels, c.want.Labels) {
				t.Errorf("ratio %v: the %s set differs from split's", ratio, c.name)
			}
		}
	}
}

// tagged returns a copy of images whose first two pixels hold each
// image's index, so that examples can be told apart after a split (tag).
func tagged(images []uint8) []uint8 {
	px := slices.Clone(images)
	for i := 0; i < len(px)/NumPixels; i++ {
		px[i*NumPixels], px[i*NumPixels+1] = uint8(i), uint8(i>>8)
	}
	return px
}

// tag returns the index that tagged wrote into example i of d.
func tag(d *Dataset, i int) int { return int(d.Pixels[i*NumPixels]) | int(d.Pixels[i*NumPixels+1])<<8 }
