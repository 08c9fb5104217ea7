package spec_test

import (
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
)

// zipProblem loads fsys with opts and returns its one problem, at
// function.yaml's Code.Folder.
func zipProblem(t *testing.T, load func() (*spec.App, error)) string {
	t.Helper()
	_, err := load()
	var list strictyaml.ErrorList
	if !errors.As(err, &list) || len(list) != 1 || !strings.HasSuffix(list[0].File, "function.yaml") || list[0].Line == 0 {
		t.Fatalf("got %v, want one problem in function.yaml", err)
	}
	return list[0].Error()
}

func TestCodeFolderZipAboveLambdasDirectUploadLimitIsRefused(t *testing.T) {
	if spec.MaxLambdaZipBytes != 50<<20 {
		t.Errorf("MaxLambdaZipBytes = %d, want Lambda's 50 MB", spec.MaxLambdaZipBytes)
	}
	noise := make([]byte, 64<<10) // random bytes do not deflate
	rand.New(rand.NewSource(1)).Read(noise)
	fsys := zipApp(map[string]string{"app.py": "def handler(e, c):\n    pass\n", "model.bin": string(noise)}, time.Now())
	msg := zipProblem(t, func() (*spec.App, error) { return spec.LoadFS(fsys, "app", builtin, spec.WithZipLimits(32<<10, 1<<30)) })
	for _, want := range []string{"Code.Folder", "above the 32768 bytes Lambda takes uploaded directly (zipped)", "upload it to S3", "Code.S3Bucket and Code.S3Key"} {
		if !strings.Contains(msg, want) {
			t.Errorf("problem %q does not say %q", msg, want)
		}
	}
	if _, err := spec.LoadFS(fsys, "app", builtin, spec.WithZipLimits(1<<20, 1<<30)); err != nil {
		t.Errorf("under the limit: %v", err)
	}
}

// The unzipped limit is checked from the files' sizes, before any is
// read or zipped: a sparse file of 251 MB costs nothing.
func TestCodeFolderAboveLambdasUnzippedLimitIsRefusedBeforeZipping(t *testing.T) {
	dir := t.TempDir()
	for name, content := range zipApp(map[string]string{"app.py": "def handler(e, c):\n    pass\n"}, time.Now()) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := filepath.Join(dir, "src", "weights.bin")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 251<<20); err != nil {
		t.Fatal(err)
	}
	limits := spec.WithLimits(spec.Limits{BytesPerFile: 1 << 30, BytesPerApplication: 1 << 30})
	msg := zipProblem(t, func() (*spec.App, error) { return spec.Load(dir, builtin, limits) })
	for _, want := range []string{"Code.Folder", "bytes unzipped", "above the 262144000 bytes", "layers count too", "container image"} {
		if !strings.Contains(msg, want) {
			t.Errorf("problem %q does not say %q", msg, want)
		}
	}
}
