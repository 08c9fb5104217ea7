// Command image builds Jibe's container image without a Docker daemon: an
// OCI image index with one image per platform, FROM scratch, holding the
// static jibe binary at /jibe, a CA bundle, and /etc/passwd and /etc/group
// naming the non-root user 65532 it runs as. It writes an OCI layout
// (scripts/release writes dist/oci), which `crane push` or `skopeo copy`
// send to a registry.
//
// Usage:
//
//	go run ./internal/release/image -out dist/oci -version v1.2.3 -revision abc123 \
//	    linux/amd64=dist/jibe-linux-amd64 linux/arm64=dist/jibe-linux-arm64
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// User and Group are the non-root identity the image runs as (the
// "nonroot" user of distroless images).
const (
	User  = 65532
	Group = 65532
)

// DefaultCABundle is the build machine's CA bundle (Debian, Ubuntu, Alpine).
const DefaultCABundle = "/etc/ssl/certs/ca-certificates.crt"

// Options describe the image to build.
type Options struct {
	// Binaries maps platforms ("linux/amd64") to the jibe binary for them.
	Binaries []Binary
	// CABundle is the PEM file installed as /etc/ssl/certs/ca-certificates.crt.
	CABundle string
	// Version and Revision label the image (org.opencontainers.image.*).
	Version, Revision string
	// Created is the image's creation time; the zero value is the Unix
	// epoch, so that the same inputs give the same digests.
	Created time.Time
}

// Binary is the jibe binary for one platform.
type Binary struct {
	OS, Arch, Path string
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	out := fs.String("out", "dist/oci", "OCI layout directory to write (replaced)")
	opts := Options{}
	fs.StringVar(&opts.CABundle, "ca", DefaultCABundle, "PEM CA bundle to install")
	fs.StringVar(&opts.Version, "version", "dev", "version label")
	fs.StringVar(&opts.Revision, "revision", "", "VCS revision label")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		sec, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since the Unix epoch: %w", epoch, err)
		}
		opts.Created = time.Unix(sec, 0).UTC()
	}
	for _, a := range fs.Args() {
		b, err := parseBinary(a)
		if err != nil {
			return err
		}
		opts.Binaries = append(opts.Binaries, b)
	}
	idx, err := Build(opts)
	if err != nil {
		return err
	}
	return Write(*out, idx)
}

// parseBinary parses "os/arch=path".
func parseBinary(arg string) (Binary, error) {
	plat, path, ok := strings.Cut(arg, "=")
	goos, arch, ok2 := strings.Cut(plat, "/")
	if !ok || !ok2 || goos == "" || arch == "" || path == "" {
		return Binary{}, fmt.Errorf("argument %q: want os/arch=path, e.g. linux/amd64=dist/jibe-linux-amd64", arg)
	}
	return Binary{OS: goos, Arch: arch, Path: path}, nil
}

// Build returns the image index of opts: one image per binary.
func Build(opts Options) (v1.ImageIndex, error) {
	if len(opts.Binaries) == 0 {
		return nil, errors.New("no binary given: pass os/arch=path for each platform")
	}
	ca, err := os.ReadFile(opts.CABundle)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w (install ca-certificates or pass -ca FILE)", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, b := range opts.Binaries {
		img, err := platformImage(b, ca, opts)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: b.OS, Architecture: b.Arch}},
		})
	}
	return idx, nil
}

// Write replaces dir with an OCI layout holding idx.
func Write(dir string, idx v1.ImageIndex) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	if _, err := layout.Write(dir, idx); err != nil {
		return fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return nil
}

// platformImage is the image of one binary.
func platformImage(b Binary, ca []byte, opts Options) (v1.Image, error) {
	bin, err := os.ReadFile(b.Path)
	if err != nil {
		return nil, fmt.Errorf("jibe binary for %s/%s: %w", b.OS, b.Arch, err)
	}
	rootfs, err := rootFS(bin, ca, opts.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = b.OS, b.Arch
	cf.Created = v1.Time{Time: opts.Created.UTC()}
	cf.Config = runConfig(opts)
	return mutate.ConfigFile(img, cf)
}

// runConfig is how the image runs: as 65532, `jibe agent` with the
// configuration the Helm chart mounts.
func runConfig(opts Options) v1.Config {
	return v1.Config{
		User:       fmt.Sprintf("%d:%d", User, Group),
		Entrypoint: []string{"/jibe"},
		Cmd:        []string{"agent", "--config", "/etc/jibe/config.yaml"},
		WorkingDir: "/",
		Env:        []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		Labels: map[string]string{
			"org.opencontainers.image.title":    "jibe",
			"org.opencontainers.image.source":   "https://github.com/jibe-dev/jibe",
			"org.opencontainers.image.version":  opts.Version,
			"org.opencontainers.image.revision": opts.Revision,
		},
	}
}

// entry is one entry of the image's file system.
type entry struct {
	name     string
	mode     int64
	uid, gid int
	data     []byte // nil for a directory
}

// entries lists the image's file system, in tar order: Files and
// directories, nothing else.
func entries(bin, ca []byte) []entry {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", User, Group)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", Group)
	return []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: ca},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: User, gid: Group},
		{name: "jibe", mode: 0o755, data: bin},
		{name: "tmp/", mode: 0o1777},
		{name: "var/", mode: 0o755},
		{name: "var/lib/", mode: 0o755},
		{name: "var/lib/jibe/", mode: 0o700, uid: User, gid: Group},
	}
}

// rootFS is the uncompressed tar of the image's one layer, with every
// time set to created, so that it is reproducible.
func rootFS(bin, ca []byte, created time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries(bin, ca) {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: created, Format: tar.FormatPAX, Typeflag: tar.TypeReg, Size: int64(len(e.data))}
		if e.data == nil {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return buf.Bytes(), nil
}
