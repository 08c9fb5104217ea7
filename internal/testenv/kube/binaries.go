package kube

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KubernetesVersion is the version of the control-plane binaries, as pinned
// in internal/testenv/cluster/go.mod.
const KubernetesVersion = "v1.35.4"

// ErrMissingBinaries is wrapped by Start's error when a binary is missing.
var ErrMissingBinaries = errors.New("kubernetes test binaries missing")

// binaries maps a component name to its executable.
type binaries map[string]string

var components = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// BinDir returns where the test binaries are looked for: $JIBE_K8S_BIN_DIR,
// else ${JIBE_CACHE:-$HOME/.cache/jibe}/k8s-<version>/bin, the directory
// internal/testenv/cluster/build.sh writes to.
func BinDir() string {
	if dir := os.Getenv("JIBE_K8S_BIN_DIR"); dir != "" {
		return dir
	}
	cache := os.Getenv("JIBE_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		cache = filepath.Join(home, ".cache", "jibe")
	}
	return filepath.Join(cache, "k8s-"+KubernetesVersion, "bin")
}

// findBinaries returns the components' paths in dir, or an error wrapping
// ErrMissingBinaries that says how to build them.
func findBinaries(dir string) (binaries, error) {
	bins := binaries{}
	var missing []string
	for _, name := range components {
		path := filepath.Join(dir, name)
		if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			missing = append(missing, name)
			continue
		}
		bins[name] = path
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("kube: %w: %s not found in %s; build them with internal/testenv/cluster/build.sh "+
			"(or run ./scripts/test, which does), or point JIBE_K8S_BIN_DIR at a directory holding them",
			ErrMissingBinaries, strings.Join(missing, ", "), dir)
	}
	return bins, nil
}
