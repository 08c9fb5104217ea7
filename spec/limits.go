package spec

import (
	"fmt"
	"io"
	"io/fs"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// Option changes how Load and LoadFS load an application.
type Option func(*loader)

// WithLimits bounds loading by limits; zero fields take their defaults
// (DefaultFilesPerApplication and the others).
func WithLimits(limits Limits) Option {
	return func(l *loader) { l.limits = limits.WithDefaults() }
}

// overLimit is the message of a problem exceeding a limit: what there is,
// the limit's value and name, and where to change it.
func overLimit(what string, limit any, name string) string {
	return fmt.Sprintf("%s, above the limit of %v (limits.%s); split the application or remove what it does not need, "+
		"or raise limits.%s in the agent configuration", what, limit, name, name)
}

// skipFolder reports whether a folder of the application is left out of
// what it holds: Git's own data.
func skipFolder(d fs.DirEntry, p string) bool {
	return d.IsDir() && p != "." && d.Name() == ".git"
}

// checkFolder refuses, before reading any file, an application folder
// holding more files or bytes than the limits allow, and each file above
// the limit per file. It reports whether loading may go on.
func (l *loader) checkFolder() bool {
	n := len(l.errs)
	files, total := 0, int64(0)
	_ = fs.WalkDir(l.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil // reading reports it
		case skipFolder(d, p):
			return fs.SkipDir
		case d.IsDir():
			return nil
		}
		if files++; files > l.limits.FilesPerApplication {
			return fs.SkipAll
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
			l.checkFileSize(p, info.Size())
		}
		return nil
	})
	folder := &strictyaml.Error{File: l.dir}
	if files > l.limits.FilesPerApplication {
		folder.Message = overLimit(fmt.Sprintf("the application's folder holds more than %d files", l.limits.FilesPerApplication), l.limits.FilesPerApplication, "filesPerApplication")
		l.errs = append(l.errs, folder)
	} else if total > l.limits.BytesPerApplication {
		folder.Message = overLimit(fmt.Sprintf("the application's files hold %d bytes", total), l.limits.BytesPerApplication, "bytesPerApplication")
		l.errs = append(l.errs, folder)
	}
	return len(l.errs) == n
}

// checkFileSize refuses file rel when it holds more than the limit per file.
func (l *loader) checkFileSize(rel string, size int64) {
	if size > l.limits.BytesPerFile {
		l.errs = append(l.errs, &strictyaml.Error{File: l.display(rel),
			Message: overLimit(fmt.Sprintf("the file holds %d bytes", size), l.limits.BytesPerFile, "bytesPerFile")})
	}
}

// errTooLarge is a file read beyond the limit per file.
type errTooLarge struct{ limit int64 }

func (e errTooLarge) Error() string {
	return overLimit("the file is larger", e.limit, "bytesPerFile")
}

// readFile reads file rel of the application, refusing to read more than
// the limit per file.
func (l *loader) readFile(rel string) ([]byte, error) {
	f, err := l.fsys.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, l.limits.BytesPerFile+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: rel, Err: err}
	}
	if int64(len(data)) > l.limits.BytesPerFile {
		return nil, errTooLarge{l.limits.BytesPerFile}
	}
	return data, nil
}

// checkCounts refuses a spec with more environments, targets or strategy
// steps than the limits allow. It reports whether rendering may go on:
// not with too many environments or targets, which rendering multiplies.
func (l *loader) checkCounts(doc *strictyaml.Document, app *Application) bool {
	s := &app.Spec
	ok := true
	if n := len(s.Environments); n > l.limits.Environments {
		l.errs = append(l.errs, doc.Errorf("spec.environments", "%s", overLimit(fmt.Sprintf("the spec has %d environments", n), l.limits.Environments, "environments")))
		ok = false
	}
	if n := len(s.Targets); n > l.limits.Targets {
		l.errs = append(l.errs, doc.Errorf("spec.targets", "%s", overLimit(fmt.Sprintf("the spec has %d targets", n), l.limits.Targets, "targets")))
		ok = false
	}
	for i, e := range s.Environments {
		if c := e.Strategy.Canary; c != nil && len(c.Steps) > l.limits.StepsPerStrategy {
			field := strictyaml.JoinIndex("spec.environments", i) + ".strategy.canary.steps"
			l.errs = append(l.errs, doc.Errorf(field, "%s", overLimit(fmt.Sprintf("the canary has %d steps", len(c.Steps)), l.limits.StepsPerStrategy, "stepsPerStrategy")))
		}
		if r := e.Strategy.Rolling; r != nil && len(r.Steps) > l.limits.StepsPerStrategy {
			field := strictyaml.JoinIndex("spec.environments", i) + ".strategy.rolling.steps"
			l.errs = append(l.errs, doc.Errorf(field, "%s", overLimit(fmt.Sprintf("the rolling update has %d steps", len(r.Steps)), l.limits.StepsPerStrategy, "stepsPerStrategy")))
		}
	}
	return ok
}

// checkManifestCount refuses a target with more Kubernetes objects than
// the limit, and reports whether ms is within it.
func (l *loader) checkManifestCount(doc *strictyaml.Document, field string, ms []Manifest) bool {
	if len(ms) <= l.limits.ManifestsPerTarget {
		return true
	}
	l.errs = append(l.errs, doc.Errorf(field, "%s", overLimit(fmt.Sprintf("the target has %d Kubernetes objects", len(ms)), l.limits.ManifestsPerTarget, "manifestsPerTarget")))
	return false
}
