package mnistfc

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// IDX is the file format of MNIST and Fashion-MNIST: a 4-byte magic number
// (two zero bytes, a type code and the number of dimensions), one big-endian
// uint32 per dimension, then the data. Files may be gzip-compressed.

const (
	idxImagesMagic = 0x00000803 // uint8, 3 dimensions: count, rows, columns.
	idxLabelsMagic = 0x00000801 // uint8, 1 dimension: count.
)

// readIDXImages reads an IDX image file (raw or gzip) and returns its pixels,
// one byte each, image after image, together with the number of images and
// their size.
func readIDXImages(path string) (pixels []byte, count, rows, cols int, err error) {
	dims, data, err := readIDX(path, idxImagesMagic)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return data, dims[0], dims[1], dims[2], nil
}

// readIDXLabels reads an IDX label file (raw or gzip) and returns one label per image.
func readIDXLabels(path string) ([]byte, error) {
	_, data, err := readIDX(path, idxLabelsMagic)
	return data, err
}

// readIDX reads the header and data of an IDX file whose magic number must be
// wantMagic. Every error names the file.
func readIDX(path string, wantMagic uint32) (dims []int, data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("opening IDX file: %w", err)
	}
	defer f.Close()

	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: not a valid gzip file: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}

	var magic uint32
	if err := binary.Read(r, binary.BigEndian, &magic); err != nil {
		return nil, nil, fmt.Errorf("%s: reading magic number: %w", path, truncated(err))
	}
	if magic != wantMagic {
		kind := "image"
		if wantMagic == idxLabelsMagic {
			kind = "label"
		}
		return nil, nil, fmt.Errorf("%s: wrong magic number 0x%08x for an IDX %s file (want 0x%08x)", path, magic, kind, wantMagic)
	}
	dims = make([]int, wantMagic&0xff)
	size := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, nil, fmt.Errorf("%s: reading dimension %d of the header: %w", path, i, truncated(err))
		}
		if d == 0 || d > 1<<28 {
			return nil, nil, fmt.Errorf("%s: dimension %d of the header is %d, not a plausible size", path, i, d)
		}
		dims[i] = int(d)
		size *= int(d)
		if size > 1<<31 {
			return nil, nil, fmt.Errorf("%s: header announces %v elements, too many", path, dims[:i+1])
		}
	}
	data = make([]byte, size)
	if n, err := io.ReadFull(r, data); err != nil {
		return nil, nil, fmt.Errorf("%s: truncated: header announces %d bytes of data (dimensions %v), found %d: %w", path, size, dims, n, truncated(err))
	}
	return dims, data, nil
}

// truncated turns the io errors of a short read into one message a user understands.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of file (file truncated?)")
	}
	return err
}
