package config

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long Watch waits for writes to stop before it
// reads the file.
const DefaultDebounce = 250 * time.Millisecond

// WatchOptions configures Watch.
type WatchOptions struct {
	// Debounce is the quiet time after the last change before the file is
	// read. Default DefaultDebounce.
	Debounce time.Duration
	// OnChange receives each new valid configuration. Required.
	OnChange func(*Config)
	// OnStart, if set, is called once the watch is established and the
	// file's current content recorded: changes after it are reported.
	OnStart func()
	// OnError receives the problems of a changed file that cannot be read
	// or is invalid; the previous configuration stays in force. Each
	// content is reported once.
	OnError func(error)
}

// Watch reloads the configuration file at path whenever its content
// changes, until ctx is done. It watches the file's folder, so editors that
// replace the file and Kubernetes ConfigMap symlink swaps are seen. The
// content present when Watch starts is taken as already loaded. Watch
// returns nil when ctx is done, and an error when watching cannot start.
func Watch(ctx context.Context, path string, opts WatchOptions) error {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.OnError == nil {
		opts.OnError = func(error) {}
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %s: %w", path, err)
	}
	defer fw.Close()
	if err := fw.Add(filepath.Dir(path)); err != nil {
		return fmt.Errorf("watching %s: %w", path, err)
	}
	w := &watcher{path: path, opts: opts}
	w.seen, _ = os.ReadFile(path)
	if opts.OnStart != nil {
		opts.OnStart()
	}
	return w.loop(ctx, fw)
}

type watcher struct {
	path string
	opts WatchOptions
	// seen is the last content handled, valid or not.
	seen []byte
}

func (w *watcher) loop(ctx context.Context, fw *fsnotify.Watcher) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-fw.Events:
			if !ok {
				return nil
			}
			timer.Reset(w.opts.Debounce)
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			w.opts.OnError(fmt.Errorf("watching %s: %w", w.path, err))
		case <-timer.C:
			w.reload()
		}
	}
}

// reload reads the file and reports it if its content is new.
func (w *watcher) reload() {
	data, err := os.ReadFile(w.path)
	if err != nil {
		// Often a replace in progress; the next event reloads it.
		if !os.IsNotExist(err) {
			w.opts.OnError(fmt.Errorf("reloading %s: %w; keeping the previous configuration", w.path, err))
		}
		return
	}
	if len(bytes.TrimSpace(data)) == 0 || bytes.Equal(data, w.seen) {
		// An empty file is a write in progress (truncate, then write); the
		// write's own event reloads it.
		return
	}
	w.seen = data
	c, err := Parse(w.path, data)
	if err != nil {
		w.opts.OnError(fmt.Errorf("the changed configuration is invalid; keeping the previous one:\n%w", err))
		return
	}
	w.opts.OnChange(c)
}
