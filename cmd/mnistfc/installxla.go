package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/gomlx/go-xla/installer"
)

// runInstallXLA downloads a PJRT plugin for the XLA backend, at the user's
// explicit request: training itself never downloads anything.
func runInstallXLA(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mnistfc install-xla", flag.ContinueOnError)
	plugin := fs.String("plugin", "cuda", `PJRT plugin to install: "cuda" (NVIDIA GPUs, with the NVIDIA libraries it needs) or "cpu"`)
	path := fs.String("path", "", "install folder (default ~/.local/lib/go-xla, where the XLA backend looks)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *plugin {
	case "cuda", "cpu":
	default:
		return fmt.Errorf("-plugin %q: want \"cuda\" or \"cpu\"", *plugin)
	}
	fmt.Fprintf(stdout, "Downloading the XLA PJRT %q plugin (needs internet access) ...\n", *plugin)
	if err := installer.AutoInstallPlugin(*plugin, *path, true, installer.Normal); err != nil {
		return fmt.Errorf("installing the %s plugin: %w", *plugin, err)
	}
	fmt.Fprintf(stdout, "Installed. Train on it with: mnistfc train -backend xla:%s\n", *plugin)
	return nil
}
