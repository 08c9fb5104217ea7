package demo

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// owner is the gitserver.TB of the demo: it owns the Git server's
// temporary directories and cleanups outside of a test. Fatalf ends the
// calling goroutine as testing.T's does, so every call that may fail runs
// through Do, which turns the failure into an error.
type owner struct {
	dir      string
	mu       sync.Mutex
	err      error
	cleanups []func()
}

var _ gitserver.TB = (*owner)(nil)

// Helper does nothing: there is no test to attribute lines to.
func (o *owner) Helper() {}

// Fatalf records the failure and ends the goroutine; Do returns it.
func (o *owner) Fatalf(format string, args ...any) {
	o.mu.Lock()
	o.err = fmt.Errorf(format, args...)
	o.mu.Unlock()
	runtime.Goexit()
}

// Cleanup registers f to run, last registered first, at close.
func (o *owner) Cleanup(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cleanups = append(o.cleanups, f)
}

// TempDir returns a new directory under the demo's state directory.
func (o *owner) TempDir() string {
	d, err := os.MkdirTemp(o.dir, "tmp")
	if err != nil {
		o.Fatalf("creating a temporary directory: %v", err)
	}
	return d
}

// Do runs f on its own goroutine and returns the failure f reported with
// Fatalf, if any.
func (o *owner) Do(f func()) error {
	done := make(chan bool)
	go func() {
		ok := false
		defer func() { done <- ok }()
		f()
		ok = true
	}()
	if <-done {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// close runs the cleanups, last registered first.
func (o *owner) close() {
	o.mu.Lock()
	fs := o.cleanups
	o.cleanups = nil
	o.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
}
