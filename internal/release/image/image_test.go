package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// TestImageRunsVersion builds jibe for the host, builds the image of it,
// writes the OCI layout, reads it back, unpacks the host's image and runs
// /jibe version from that root file system.
func TestImageRunsVersion(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatalf("the image is a Linux image; run this test on Linux (GOOS=%s)", runtime.GOOS)
	}
	dir := t.TempDir()
	bin := buildJibe(t, dir)
	idx, err := Build(Options{Binaries: []Binary{{OS: runtime.GOOS, Arch: runtime.GOARCH, Path: bin}}, CABundle: DefaultCABundle, Version: "v9.9.9", Revision: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "oci")
	if err := Write(out, idx); err != nil {
		t.Fatal(err)
	}
	img := hostImage(t, out)

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || cf.OS != runtime.GOOS || cf.Architecture != runtime.GOARCH {
		t.Errorf("config: user %q, platform %s/%s; want 65532:65532, %s/%s", cf.Config.User, cf.OS, cf.Architecture, runtime.GOOS, runtime.GOARCH)
	}
	if want := []string{"/jibe"}; !slices.Equal(cf.Config.Entrypoint, want) {
		t.Errorf("entrypoint %q, want %q", cf.Config.Entrypoint, want)
	}
	if got := cf.Config.Labels["org.opencontainers.image.version"]; got != "v9.9.9" {
		t.Errorf("version label %q, want v9.9.9", got)
	}

	root := filepath.Join(dir, "rootfs")
	names := unpack(t, img, root)
	var want []string
	for _, e := range entries(nil, nil) {
		want = append(want, strings.TrimSuffix(e.name, "/"))
	}
	if !slices.Equal(names, want) {
		t.Errorf("image files:\n%q\nwant only:\n%q", names, want)
	}
	passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil || !strings.Contains(string(passwd), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd lacks the nonroot user 65532: %q, %v", passwd, err)
	}

	cmd := exec.Command(filepath.Join(root, "jibe"), "version")
	cmd.Env = []string{"SSL_CERT_FILE=" + filepath.Join(root, "etc/ssl/certs/ca-certificates.crt")}
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(got), "jibe ") {
		t.Fatalf("jibe version from the image: %v\n%s", err, got)
	}
	t.Logf("%s", got)
}

// TestImageReproducible builds the same image twice: same digest.
func TestImageReproducible(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "jibe")
	if err := os.WriteFile(bin, []byte("not really a binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	digest := func() v1.Hash {
		idx, err := Build(Options{Binaries: []Binary{{OS: "linux", Arch: "amd64", Path: bin}, {OS: "linux", Arch: "arm64", Path: bin}}, CABundle: DefaultCABundle, Version: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := idx.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if a, b := digest(), digest(); a != b {
		t.Errorf("two builds of the same inputs: %s and %s", a, b)
	}
}

func TestParseBinary(t *testing.T) {
	if b, err := parseBinary("linux/arm64=dist/jibe-linux-arm64"); err != nil || b != (Binary{OS: "linux", Arch: "arm64", Path: "dist/jibe-linux-arm64"}) {
		t.Errorf("parseBinary = %+v, %v", b, err)
	}
	for _, bad := range []string{"linux=x", "linux/amd64", "/amd64=x", "linux/amd64="} {
		if _, err := parseBinary(bad); err == nil {
			t.Errorf("parseBinary(%q) accepted", bad)
		}
	}
}

// buildJibe builds cmd/jibe as the release does, for the host.
func buildJibe(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "jibe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "github.com/jibe-dev/jibe/cmd/jibe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// hostImage reads the host platform's image from the OCI layout at dir.
func hostImage(t *testing.T, dir string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	// layout.Write makes the image index the layout's index.json.
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.OS == runtime.GOOS && d.Platform.Architecture == runtime.GOARCH {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("no image for %s/%s in %+v", runtime.GOOS, runtime.GOARCH, m.Manifests)
	return nil
}

// unpack extracts img's file system into root and returns the names of its
// entries in order.
func unpack(t *testing.T, img v1.Image, root string) []string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.TrimSuffix(h.Name, "/"))
		if h.Uid != 0 && h.Uid != User {
			t.Errorf("%s: owner %d", h.Name, h.Uid)
		}
		writeEntry(t, root, h, tr)
	}
}

// writeEntry writes one tar entry under root.
func writeEntry(t *testing.T, root string, h *tar.Header, r io.Reader) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(h.Name))
	if !strings.HasPrefix(path, root+string(filepath.Separator)) {
		t.Fatalf("entry %q leaves the root", h.Name)
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(path, 0o755); err != nil {
			t.Fatal(err)
		}
	case tar.TypeReg:
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := io.Copy(f, r); err != nil {
			t.Fatal(err)
		}
	default:
		t.Errorf("entry %s: type %c: the image holds only files and directories", h.Name, h.Typeflag)
	}
}
