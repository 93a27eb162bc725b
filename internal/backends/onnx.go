//go:build onnx && linux && amd64 && cgo

package backends

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	// ONNX Runtime backend ("onnx" or "onnx:/path/libonnxruntime.so").
	onnxbackend "github.com/gomlx/compute-onnx"
)

// ONNXBuild reports whether this program was built with the ONNX Runtime
// backend (build tag onnx).
const ONNXBuild = true

// disableONNXAutoInstall keeps compute-onnx from downloading ONNX Runtime.
func disableONNXAutoInstall() { onnxbackend.EnableAutoInstall(false) }

// onnxInstallHint says how to install ONNX Runtime where the backend finds it.
const onnxInstallHint = "install it with `make onnxruntime` (scripts/install-onnxruntime.sh: the npm package " +
	"onnxruntime-node, copied to ~/.local/lib/onnxruntime/libonnxruntime.so), or name the library: " +
	"-backend onnx:/abs/path/libonnxruntime.so or ONNXRUNTIME_SHARED_LIBRARY_PATH"

// ONNXLibrary returns the ONNX Runtime shared library that the configuration
// of an "onnx[:config]" backend name would load, and an error naming the
// places looked at when there is none.
func ONNXLibrary(config string) (string, error) {
	for _, part := range strings.Split(config, ",") {
		if part = strings.TrimSpace(part); part != "" && !strings.Contains(part, "=") && strings.Contains(part, "/") {
			if _, err := os.Stat(part); err != nil {
				return "", fmt.Errorf("ONNX Runtime library %q: %w; %s", part, err, onnxInstallHint)
			}
			return part, nil
		}
	}
	if p := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ONNX Runtime library %q (ONNXRUNTIME_SHARED_LIBRARY_PATH): %w; %s", p, err, onnxInstallHint)
		}
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("ONNX Runtime: no library given and no home folder to look in (%v); %s", err, onnxInstallHint)
	}
	p := filepath.Join(home, ".local", "lib", "onnxruntime", "libonnxruntime.so")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("ONNX Runtime is not installed: no %s; %s", p, onnxInstallHint)
	}
	return p, nil
}

// checkONNX reports, before GoMLX tries to load it, whether the ONNX Runtime
// library named by an "onnx[:config]" backend name is installed.
func checkONNX(config string) error {
	_, err := ONNXLibrary(config)
	return err
}
