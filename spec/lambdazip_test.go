package spec_test

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"maps"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jibe-dev/jibe/spec"
)

// zipApp is the base application with its function zipped from src/,
// the files of src given, each with modification time at.
func zipApp(src map[string]string, at time.Time) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, content := range baseFiles {
		fsys[name] = &fstest.MapFile{Data: []byte(content), ModTime: at}
	}
	fsys["function.yaml"].Data = []byte("FunctionName: fn-${env.name}\nRole: arn:aws:iam::111111111111:role/fn\nRuntime: python3.12\nHandler: app.handler\nCode:\n  Folder: src\n")
	for name, content := range src {
		mode := fs.FileMode(0o644)
		if name == "bin/run" {
			mode = 0o755
		}
		fsys["src/"+name] = &fstest.MapFile{Data: []byte(content), ModTime: at, Mode: mode}
	}
	return fsys
}

// zipOf loads fsys and returns the zip of the function of environment
// staging.
func zipOf(t *testing.T, fsys fs.FS) []byte {
	t.Helper()
	app, err := spec.LoadFS(fsys, "app", builtin)
	if err != nil {
		t.Fatal(err)
	}
	env, err := app.Render("staging")
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range env.Targets {
		if rt.Function != nil {
			return rt.Function.Code.ZipFile
		}
	}
	t.Fatal("no function")
	return nil
}

func TestCodeFolderZipIsReproducible(t *testing.T) {
	src := map[string]string{"app.py": "def handler(e, c):\n    return 'v1'\n", "lib/util.py": "X = 1\n", "bin/run": "#!/bin/sh\n"}
	a := zipOf(t, zipApp(src, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)))
	b := zipOf(t, zipApp(src, time.Date(2026, 6, 7, 8, 9, 10, 0, time.UTC)))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("the same files at other times gave different zips (%d and %d bytes)", len(a), len(b))
	}
	changed := maps.Clone(src)
	changed["app.py"] = "def handler(e, c):\n    return 'v2'\n"
	if c := zipOf(t, zipApp(changed, time.Now())); bytes.Equal(a, c) {
		t.Fatal("a changed file gave the same zip")
	}
	r, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
		want := fs.FileMode(0o644)
		if f.Name == "bin/run" {
			want = 0o755
		}
		if f.Mode().Perm() != want || !f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: mode %v, time %v; want %v at 1980-01-01", f.Name, f.Mode().Perm(), f.Modified, want)
		}
	}
	if want := []string{"app.py", "bin/run", "lib/util.py"}; !slices.Equal(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
}
