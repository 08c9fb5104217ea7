package sources

import (
	"io/fs"
	"runtime"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/spec"
)

// A file above the limit per file is refused without reading its blob:
// its size is known from the Git object, so neither the snapshot nor a
// read loads it, and the spec loader reports the limit.
func TestLargeBlobIsRefusedUnread(t *testing.T) {
	const size = spec.DefaultBytesPerFile + 1<<20
	srv := gitserver.New(t)
	srv.CreateRepo("app")
	repo := srv.Repo("app")
	repo.Commit(gitserver.Commit{Files: map[string]string{
		"apps/web/jibe.yaml": webSpec, "apps/web/k8s/deploy.yaml": "replicas: 1\n",
		"apps/web/assets/big.bin": strings.Repeat("x", size),
	}})
	files := app(t, pollOne(t, newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})), "apps/web").Revision.Files
	for name, fsys := range map[string]fs.FS{"in memory": files, "from the clone": uncached(files)} {
		if info, err := fs.Stat(fsys, "assets/big.bin"); err != nil || info.Size() != size {
			t.Errorf("%s: stat = %v, %v; want size %d", name, info, err, size)
		}
		allocated := bytesAllocatedBy(func() {
			if _, err := fs.ReadFile(fsys, "assets/big.bin"); err == nil || !strings.Contains(err.Error(), "limits.bytesPerFile") {
				t.Errorf("%s: reading the large file: %v, want the limit per file", name, err)
			}
		})
		if allocated > 1<<20 {
			t.Errorf("%s: refusing the large file allocated %d bytes: the blob was read", name, allocated)
		}
		if data, err := fs.ReadFile(fsys, "k8s/deploy.yaml"); err != nil || string(data) != "replicas: 1\n" {
			t.Errorf("%s: a small file: %q, %v", name, data, err)
		}
	}
	_, err := spec.LoadFS(files, "apps/web")
	if err == nil || !strings.Contains(err.Error(), "apps/web/assets/big.bin: the file holds") || !strings.Contains(err.Error(), "limits.bytesPerFile") {
		t.Errorf("loading the application: %v", err)
	}
}

// bytesAllocatedBy returns the bytes fn allocates.
func bytesAllocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
