package main

import (
	"context"
	"log/slog"
	"sync/atomic"

	"k8s.io/klog/v2"

	"github.com/jibe-dev/jibe/internal/apimetrics"
)

// libraryLog is where what libraries log goes: the running agent's
// logger once routeLibraryLogs has set it, slog's default before.
var libraryLog atomic.Pointer[slog.Logger]

// setUpProcess sets the library hooks that are process-wide and read
// without synchronisation, once, before any goroutine can use them (main,
// and TestMain for the tests): klog's logger, which routeLibraryLogs
// points at the agent's logger later through libraryLog, and client-go's
// request metrics. Setting them while informers run races (an agent
// started again in the same process, or the tests' agents beside their
// own clients).
func setUpProcess() {
	klog.SetSlogLogger(slog.New(routedHandler{}))
	apimetrics.Register()
}

// routeLibraryLogs sends what libraries log through log, so that the
// agent writes one log in one format: client-go's klog lines and the
// standard library's log package (used by some dependencies).
func routeLibraryLogs(log *slog.Logger) {
	libraryLog.Store(log)
	slog.SetDefault(log)
}

// routedHandler hands each record to libraryLog's handler, with the
// attributes and groups klog's callers added on the way.
type routedHandler struct {
	// with replays WithAttrs and WithGroup calls, in order, on the
	// destination's handler.
	with []func(slog.Handler) slog.Handler
}

func (h routedHandler) target() slog.Handler {
	l := libraryLog.Load()
	if l == nil {
		l = slog.Default()
	}
	t := l.Handler()
	for _, w := range h.with {
		t = w(t)
	}
	return t
}

func (h routedHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.target().Enabled(ctx, level)
}

func (h routedHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.target().Handle(ctx, r)
}

func (h routedHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.and(func(t slog.Handler) slog.Handler { return t.WithAttrs(attrs) })
}

func (h routedHandler) WithGroup(name string) slog.Handler {
	return h.and(func(t slog.Handler) slog.Handler { return t.WithGroup(name) })
}

func (h routedHandler) and(w func(slog.Handler) slog.Handler) routedHandler {
	return routedHandler{with: append(h.with[:len(h.with):len(h.with)], w)}
}
