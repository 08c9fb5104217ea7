package sources

import (
	"os"
	"path/filepath"
	"testing"
)

// A local folder's symbolic links, to a file or a folder outside it (the
// agent's token, another application), are not part of any revision:
// only regular files below the folder are read.
func TestDirRevisionsHoldNoSymbolicLinks(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "token"), []byte("agent-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	app := filepath.Join(root, "apps", "web")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "jibe.yaml"), []byte(webSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"token.yaml": filepath.Join(outside, "token"), "other": outside, "up": ".."} {
		if err := os.Symlink(target, filepath.Join(app, link)); err != nil {
			t.Fatal(err)
		}
	}
	filter, err := newAppFilter(nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := readSnapshot(root, filter)
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range snap.files {
		if p != "apps/web/jibe.yaml" || string(data) == "agent-secret" {
			t.Errorf("the revision holds %s (%q)", p, data)
		}
	}
}
