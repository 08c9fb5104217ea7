package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/internal/backoff"
)

// redrawInterval is the least time between two frames of --watch: a
// burst of events draws once.
const redrawInterval = 200 * time.Millisecond

// reconnectBackoff spaces --watch's attempts to reach an agent it lost.
var reconnectBackoff = backoff.Backoff{Base: 500 * time.Millisecond, Max: 10 * time.Second, Jitter: 0.2}

// Terminal control: home the cursor and clear the screen.
const clearScreen = "\x1b[H\x1b[2J"

// watcher follows the agent's live events (GET /api/v1/events) and draws
// a frame after each, at most one per throttle; it reconnects, saying so,
// when the stream ends while its context goes on.
type watcher struct {
	c      *apiClient
	events string // the stream's path and query
	// draw reads the state and draws a frame.
	draw     func(ctx context.Context) (string, error)
	out      io.Writer
	errOut   io.Writer
	term     terminal
	clock    clock.Clock
	throttle time.Duration
	backoff  backoff.Backoff
	// stamped puts a line with the time ("--- 15:04:05") above each
	// frame of an output that is not a terminal.
	stamped bool
	// last is the last frame drawn: a terminal redraws only a change, and
	// other output prints each change once.
	last string
}

// run follows the agent until ctx ends. Failing to reach the agent at
// first is an error, as is any answer other than 2xx (a refused token, an
// application gone); a lost stream is reconnected with backoff, saying
// so on errOut.
func (w *watcher) run(ctx context.Context) error {
	failures := 0
	connected := false
	for {
		body, err := w.c.stream(ctx, w.events)
		var apiErr *APIError
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && (!connected || errors.As(err, &apiErr)):
			return err
		case err != nil:
			failures++
			delay := w.backoff.Delay(failures, nil)
			fmt.Fprintf(w.errOut, "jibe: no answer from the agent at %s yet; retrying in %s\n", w.c.base, delay.Round(100*time.Millisecond))
			if !w.wait(ctx, delay) {
				return nil
			}
			continue
		}
		if connected {
			fmt.Fprintf(w.errOut, "jibe: reconnected to the agent at %s\n", w.c.base)
		}
		connected, failures = true, 1
		err = w.follow(ctx, body)
		body.Close()
		if ctx.Err() != nil {
			return nil
		}
		if errors.As(err, &apiErr) {
			return err
		}
		delay := w.backoff.Delay(failures, nil)
		fmt.Fprintf(w.errOut, "jibe: lost the agent at %s (%v); reconnecting in %s\n", w.c.base, err, delay.Round(100*time.Millisecond))
		if !w.wait(ctx, delay) {
			return nil
		}
	}
}

// wait waits d on the watcher's clock; false when ctx ended first.
func (w *watcher) wait(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-w.clock.After(d):
		return true
	}
}

// errStreamEnded is the agent closing the stream (it shuts down, or the
// client fell too far behind).
var errStreamEnded = errors.New("the agent ended the event stream")

// follow draws a frame, then another after each event of body, until the
// stream or ctx ends.
func (w *watcher) follow(ctx context.Context, body io.Reader) error {
	events := make(chan struct{}, 1)
	ended := make(chan error, 1)
	go func() {
		ended <- readEvents(body, func() {
			select {
			case events <- struct{}{}:
			default:
			}
		})
	}()
	if err := w.redraw(ctx); err != nil {
		return err
	}
	drawn := w.clock.Now()
	var due <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-ended:
			return err
		case <-events:
			if due == nil {
				due = w.clock.After(max(w.throttle-w.clock.Since(drawn), 0))
			}
			continue
		case <-due:
		}
		due = nil
		if err := w.redraw(ctx); err != nil {
			return err
		}
		drawn = w.clock.Now()
	}
}

// redraw draws a frame if it changed: in place on a terminal, else
// after the previous one.
func (w *watcher) redraw(ctx context.Context) error {
	frame, err := w.draw(ctx)
	if err != nil {
		return err
	}
	if frame == w.last {
		return nil
	}
	w.last = frame
	now := w.clock.Now().Local().Format("15:04:05")
	switch {
	case w.term.tty:
		header := fmt.Sprintf("jibe status · %s · %s · Ctrl-C ends\n\n", w.c.base, now)
		frame = clearScreen + w.term.paint(ansiDim, header) + frame
	case w.stamped:
		frame = "--- " + now + "\n" + frame
	}
	_, err = io.WriteString(w.out, frame)
	return err
}

// readEvents reads server-sent events from r, calling event after each
// one (comments such as keep-alives are not events), until r ends.
func readEvents(r io.Reader, event func()) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	data := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data {
				event()
			}
			data = false
		case strings.HasPrefix(line, "data:"):
			data = true
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errStreamEnded
}
