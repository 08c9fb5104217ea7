package sources

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/config"
)

// Defaults of DirOptions.
const (
	DefaultMinQuiet = 200 * time.Millisecond
	DefaultMaxWait  = 2 * time.Second
)

// DirOptions configures a Dir source.
type DirOptions struct {
	// MinQuiet is how long writes must stop before a revision is taken.
	// Default DefaultMinQuiet.
	MinQuiet time.Duration
	// MaxWait is the longest a revision waits after the first write of a
	// burst, even if writes continue. Default DefaultMaxWait.
	MaxWait time.Duration
	// Clock drives the debouncing. Default the wall clock.
	Clock clock.Clock
	// Logger receives revisions and errors. Default slog.Default().
	Logger *slog.Logger
}

// Dir watches a local folder of applications (a config.DirSource), for
// local development. Every settled burst of changes that alters the
// folder's content yields an Update whose Commit.SHA is a content hash of
// the folder.
type Dir struct {
	name   string
	root   string
	filter appFilter
	opts   DirOptions
	last   *dirSnapshot
	// armed counts the file events reflected in the debounce timer, and
	// taken the snapshots taken; tests wait on them instead of sleeping.
	armed, taken atomic.Int64
}

// NewDir returns a Dir source for src, which must have Dir set.
func NewDir(src config.Source, opts DirOptions) (*Dir, error) {
	if src.Dir == nil {
		return nil, &ConfigError{Source: src.Name, Field: "dir", Err: errors.New("not a dir source")}
	}
	filter, err := newAppFilter(src.Applications)
	if err != nil {
		err.(*ConfigError).Source = src.Name
		return nil, err
	}
	opts.MinQuiet = positive(opts.MinQuiet, DefaultMinQuiet)
	opts.MaxWait = max(positive(opts.MaxWait, DefaultMaxWait), opts.MinQuiet)
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Dir{name: src.Name, root: src.Dir.Path, filter: filter, opts: opts}, nil
}

// Run sends the folder's current content as a first Update, then an Update
// after every settled burst of changes, until ctx is done. New subfolders
// are watched as they appear. Run returns nil when ctx is done, and an
// error when the folder cannot be watched or read at the start. Call it
// once per Dir.
func (d *Dir) Run(ctx context.Context, out chan<- Update) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("source %q: watching %s: %w", d.name, d.root, err)
	}
	defer w.Close()
	if err := watchTree(w, d.root); err != nil {
		return fmt.Errorf("source %q: watching %s: %w", d.name, d.root, err)
	}
	u, err := d.take()
	if err != nil {
		return err
	}
	if !publish(ctx, out, []Update{u}) {
		return nil
	}
	return d.loop(ctx, w, out)
}

// loop debounces file events into Updates.
func (d *Dir) loop(ctx context.Context, w *fsnotify.Watcher, out chan<- Update) error {
	deb := debouncer{min: d.opts.MinQuiet, max: d.opts.MaxWait}
	var events int64
	for {
		var wait <-chan time.Time
		if dl, ok := deb.deadline(); ok {
			wait = d.opts.Clock.After(dl.Sub(d.opts.Clock.Now()))
		}
		d.armed.Store(events)
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			events++
			deb.observe(d.opts.Clock.Now())
			d.follow(w, ev)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			d.opts.Logger.Warn("watching failed", "source", d.name, "path", d.root, "error", err)
		case now := <-wait:
			if deb.due(now) && !d.emit(ctx, out) {
				return nil
			}
		}
	}
}

// follow watches folders as they are created.
func (d *Dir) follow(w *fsnotify.Watcher, ev fsnotify.Event) {
	if !ev.Has(fsnotify.Create) {
		return
	}
	if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
		if err := watchTree(w, ev.Name); err != nil {
			d.opts.Logger.Warn("watching a new folder failed", "source", d.name, "path", ev.Name, "error", err)
		}
	}
}

// emit takes a snapshot and sends it when the content changed. It returns
// false when ctx is done.
func (d *Dir) emit(ctx context.Context, out chan<- Update) bool {
	prev := d.last
	u, err := d.take()
	if err != nil {
		d.opts.Logger.Warn("reading the folder failed", "source", d.name, "path", d.root, "error", err)
		return true
	}
	if prev != nil && d.last.sum == prev.sum {
		return true // touched, not changed
	}
	d.opts.Logger.Info("new revision", "source", d.name, "path", d.root, "revision", u.Commit.SHA, "changed", len(u.Changed()))
	return publish(ctx, out, []Update{u})
}

// take reads the folder and describes it relative to the last snapshot,
// which it replaces.
func (d *Dir) take() (Update, error) {
	snap, err := readSnapshot(d.root, d.filter)
	if err != nil {
		return Update{}, fmt.Errorf("source %q: reading %s: %w", d.name, d.root, err)
	}
	prevApps, transition, previous := map[string]string{}, TransitionInitial, ""
	if d.last != nil {
		prevApps, transition, previous = d.last.apps, TransitionFastForward, d.last.sum
	}
	d.last = snap
	d.taken.Add(1)
	now := d.opts.Clock.Now()
	u := Update{Source: d.name, URL: d.root, Previous: previous, Transition: transition,
		Commit: Commit{SHA: snap.sum, Time: now}}
	for _, ch := range diffApps(prevApps, snap.apps) {
		au := AppUpdate{App: ch.app, Change: ch.change}
		if ch.change != ChangeRemoved {
			au.Revision = &Revision{Source: d.name, App: ch.app, Commit: snap.sum, Digest: snap.apps[ch.app],
				Files: memFS{files: snap.filesOf(ch.app), mtime: now}}
		}
		u.Apps = append(u.Apps, au)
	}
	return u, nil
}

// watchTree watches dir and every folder below it, except .git.
func watchTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			return nil
		}
		if e.Name() == ".git" {
			return filepath.SkipDir
		}
		return w.Add(p)
	})
}

// dirSnapshot is a folder's content at one moment.
type dirSnapshot struct {
	files map[string][]byte // by slash-separated path
	apps  map[string]string // application folder → content hash
	sum   string            // content hash of the whole folder
}

// readSnapshot reads every regular file below root (except in .git) and
// hashes the folder and each application.
func readSnapshot(root string, filter appFilter) (*dirSnapshot, error) {
	files, err := readFiles(root)
	if err != nil {
		return nil, err
	}
	snap := &dirSnapshot{files: files, apps: map[string]string{}, sum: hashFiles(files)}
	for p := range files {
		if dir := pathDir(p); isSpecFile(path.Base(p)) && filter.isApp(dir, true) {
			snap.apps[dir] = hashFiles(snap.filesOf(dir))
		}
	}
	return snap, nil
}

// readFiles reads the regular files below root, by slash-separated
// relative path. Files and folders removed while it walks are left out:
// their removal is an event that causes the next snapshot.
func readFiles(root string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && p != root:
			return nil
		case err != nil:
			return err
		case e.IsDir() && e.Name() == ".git":
			return filepath.SkipDir
		case !e.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	return files, err
}

// filesOf returns the files below dir, with paths relative to it.
func (s *dirSnapshot) filesOf(dir string) map[string][]byte {
	if dir == "." {
		return s.files
	}
	out := map[string][]byte{}
	for p, data := range s.files {
		if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
			out[rest] = data
		}
	}
	return out
}

// hashFiles returns "sha256:<hex>" over the sorted paths and contents.
func hashFiles(files map[string][]byte) string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		writeField(h, []byte(p))
		writeField(h, files[p])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// writeField writes a length-prefixed field, so that no two file sets
// hash alike by shifting bytes between path and content.
func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// pathDir is path.Dir for slash paths, "." for top-level files.
func pathDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return "."
}
