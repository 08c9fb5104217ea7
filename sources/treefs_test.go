package sources

import (
	"fmt"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// uncached returns fsys reading from the clone at every operation, as
// folders above maxSnapshotBytes do.
func uncached(fsys fs.FS) treeFS {
	t := fsys.(treeFS)
	t.snap = nil
	return t
}

func TestRevisionFilesAreAValidFS(t *testing.T) {
	_, repo, _ := newAppsRepo(t)
	u := pollOne(t, newTestGit(t, gitSourceFor(repo.URL()), GitOptions{}))
	files := app(t, u, "apps/web").Revision.Files
	for name, fsys := range map[string]fs.FS{"in memory": files, "from the clone": uncached(files)} {
		if err := fstest.TestFS(fsys, "jibe.yaml", "k8s/deploy.yaml"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := fs.ReadFile(fsys, "../api/jibe.yaml"); err == nil {
			t.Errorf("%s: a revision reads outside its application folder", name)
		}
	}
	if _, err := files.(treeFS).loadAll(10); err != errTooLarge {
		t.Fatalf("loading 24 bytes with a limit of 10: %v, want errTooLarge", err)
	}
}

// readAll reads every file of fsys.
func readAll(fsys fs.FS) (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		out[p] = string(data)
		return err
	})
	return out, err
}

func TestRevisionsStayIntactWhileNewerCommitsAreFetched(t *testing.T) {
	_, repo, _ := newAppsRepo(t)
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})
	first := app(t, pollOne(t, g), "apps/web").Revision
	want, err := readAll(first.Files)
	if err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	// One reader loads the folder afresh each time, one reads the clone at
	// every operation.
	readers := []func() fs.FS{
		func() fs.FS {
			return newTreeFS(first.Files.(treeFS).store, first.Files.(treeFS).root, first.Files.(treeFS).mtime, first.Files.(treeFS).maxFile)
		},
		func() fs.FS { return uncached(first.Files) },
	}
	for _, files := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := readAll(files())
				if err == nil && fmt.Sprint(got) != fmt.Sprint(want) {
					err = fmt.Errorf("revision %s changed: %v, want %v", first.Commit, got, want)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 6 {
		content := fmt.Sprintf("replicas: %d\n", i+2)
		repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/k8s/deploy.yaml": content, "apps/web/new.txt": content}})
		rev := app(t, pollOne(t, g), "apps/web").Revision
		if got := readApp(t, rev.Files); got["k8s/deploy.yaml"] != content {
			t.Fatalf("revision %d reads %q", i, got["k8s/deploy.yaml"])
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClonePackFilesAreMergedAndOldRevisionsStayReadable(t *testing.T) {
	_, repo, _ := newAppsRepo(t)
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})
	const maxPacks = 4
	g.env.maxPacks = maxPacks
	first := app(t, pollOne(t, g), "apps/web").Revision
	want := readApp(t, first.Files)
	for i := range maxPacks + 3 {
		repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/k8s/deploy.yaml": fmt.Sprintf("replicas: %d\n", i)}})
		pollOne(t, g)
	}
	st := g.snapshot()[0].store.open()
	defer st.Close()
	packs, err := st.ObjectPacks()
	if err != nil || len(packs) > maxPacks {
		t.Fatalf("%d pack files (err %v), want at most %d", len(packs), err, maxPacks)
	}
	if got := readApp(t, first.Files); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("first revision after compaction: %v, want %v", got, want)
	}
}
