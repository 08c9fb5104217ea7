package spec

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// Lambda's limits of a function's package.
const (
	// MaxLambdaZipBytes is the largest package Lambda takes uploaded
	// directly (ZipFile): 50 MB zipped. A larger package belongs in S3,
	// as an artifact.
	MaxLambdaZipBytes = 50 << 20
	// MaxLambdaUnzippedBytes is the most a function's package and layers
	// may hold unzipped, wherever the package comes from: 250 MB. Above
	// it, a function ships as a container image.
	MaxLambdaUnzippedBytes = 250 << 20
)

// zipLimits are the largest package Lambda takes, zipped and unzipped,
// in bytes; Lambda's when zero.
type zipLimits struct{ zipped, unzipped int64 }

// withDefaults fills the zero limits with Lambda's.
func (z zipLimits) withDefaults() zipLimits {
	if z.zipped <= 0 {
		z.zipped = MaxLambdaZipBytes
	}
	if z.unzipped <= 0 {
		z.unzipped = MaxLambdaUnzippedBytes
	}
	return z
}

// zipEpoch is the modification time of every zipped file (the earliest a
// zip can record), so that the same files always make the same zip.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// zipCode builds the package of a function whose Code.Folder names a
// folder of the application, and checks that Code names nothing else.
func (l *loader) zipCode(doc *strictyaml.Document, fn *LambdaFunction) {
	c := &fn.Code
	if c.Folder == "" {
		return
	}
	if c.S3Bucket != "" || c.S3Key != "" || c.S3ObjectVersion != "" || c.ImageUri != "" || fn.PackageType == "Image" {
		l.errs = append(l.errs, doc.Errorf("Code.Folder", "Code.Folder zips a folder of the application for a Zip function: remove Code.S3Bucket, S3Key, S3ObjectVersion and ImageUri (and PackageType Image)"))
		return
	}
	data, err := l.zipFolder(c.Folder)
	if err != nil {
		l.errs = append(l.errs, doc.Errorf("Code.Folder", "%v", err))
		return
	}
	c.ZipFile = data
}

// zipFolder returns the reproducible zip of folder name of the
// application (sorted entries, fixed times, modes 0644 or 0755), built
// once per load.
func (l *loader) zipFolder(name string) ([]byte, error) {
	rel, err := cleanRel(name)
	if err != nil {
		return nil, err
	}
	if z, ok := l.zips[rel]; ok {
		return z.data, z.err
	}
	data, err := l.buildZip(rel)
	if l.zips == nil {
		l.zips = map[string]zipResult{}
	}
	l.zips[rel] = zipResult{data, err}
	return data, err
}

// zipResult is a folder's zip or why it could not be built.
type zipResult struct {
	data []byte
	err  error
}

// buildZip zips the files under rel, named relative to it, after
// checking from their sizes that Lambda takes them unzipped. It stops as
// soon as the zip grows past what Lambda takes uploaded directly.
func (l *loader) buildZip(rel string) ([]byte, error) {
	if info, err := fs.Stat(l.fsys, rel); errors.Is(err, fs.ErrNotExist) || (err == nil && !info.IsDir()) {
		return nil, fmt.Errorf("folder %s does not exist in the application's folder", rel)
	}
	limits := l.zipLimits.withDefaults()
	if err := l.checkUnzipped(rel, limits.unzipped); err != nil {
		return nil, err
	}
	buf := &cappedBuffer{limit: limits.zipped}
	w := zip.NewWriter(buf)
	files := 0
	err := fs.WalkDir(l.fsys, rel, func(p string, d fs.DirEntry, err error) error {
		if err != nil || skipFolder(d, p) || d.IsDir() {
			if err == nil && skipFolder(d, p) {
				return fs.SkipDir
			}
			return err
		}
		files++
		return l.addToZip(w, rel, p, d)
	})
	if err == nil {
		err = w.Close()
	}
	switch {
	case errors.Is(err, errZipTooLarge):
		return nil, fmt.Errorf("the zip of %s is above the %d bytes Lambda takes uploaded directly (zipped): build the package in CI, upload it to S3 and name it with Code.S3Bucket and Code.S3Key (an S3 artifact: ${artifacts.<name>.bucket}, ${artifacts.<name>.key})",
			rel, limits.zipped)
	case err != nil:
		return nil, fmt.Errorf("cannot zip %s: %w", rel, strictyaml.PathCause(err))
	case files == 0:
		return nil, fmt.Errorf("folder %s holds no file to zip", rel)
	}
	return buf.Bytes(), nil
}

// checkUnzipped refuses a folder whose files hold more than limit bytes,
// from their sizes, before any is read.
func (l *loader) checkUnzipped(rel string, limit int64) error {
	var total int64
	err := fs.WalkDir(l.fsys, rel, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil // zipping reports it
		case skipFolder(d, p):
			return fs.SkipDir
		case d.IsDir():
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
		}
		return nil
	})
	if err == nil && total > limit {
		return fmt.Errorf("the files of %s hold %d bytes unzipped, above the %d bytes Lambda allows a function's package unzipped, from S3 too (its layers count too): "+
			"leave out what the function does not need, or ship it as a container image (PackageType: Image, Code.ImageUri)", rel, total, limit)
	}
	return err
}

// errZipTooLarge stops zipping once the zip is above its limit.
var errZipTooLarge = errors.New("zip above the limit")

// cappedBuffer is a buffer that refuses to grow past limit bytes.
type cappedBuffer struct {
	bytes.Buffer
	limit int64
}

// Write appends p, or fails with errZipTooLarge past the limit.
func (b *cappedBuffer) Write(p []byte) (int, error) {
	if int64(b.Len()+len(p)) > b.limit {
		return 0, errZipTooLarge
	}
	return b.Buffer.Write(p)
}

// addToZip adds file p (under folder rel) to w, deflated, with the fixed
// time and mode 0755 when it is executable, else 0644.
func (l *loader) addToZip(w *zip.Writer, rel, p string, d fs.DirEntry) error {
	data, err := l.readFile(p)
	if err != nil {
		return err
	}
	name := p
	if rel != "." {
		name = path.Clean(p[len(rel)+1:])
	}
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipEpoch}
	mode := fs.FileMode(0o644)
	if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
		mode = 0o755
	}
	h.SetMode(mode)
	f, err := w.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return err
}
