package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

// A burst of events draws one frame once the redraw interval has passed
// since the last, not one per event; keep-alive comments draw nothing.
func TestWatchDrawsABurstOfEventsOnce(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	var draws atomic.Int32
	out := &syncBuffer{}
	w := &watcher{out: out, clock: clk, throttle: redrawInterval,
		draw: func(context.Context) (string, error) { return fmt.Sprintf("frame %d\n", draws.Add(1)), nil }}
	body, stream := io.Pipe()
	ended := make(chan error, 1)
	go func() { ended <- w.follow(context.Background(), body) }()
	poll(t, "the first frame", func() bool { return draws.Load() == 1 })

	fmt.Fprint(stream, ": keep-alive\n\n")
	for i := range 5 {
		fmt.Fprintf(stream, "id: %d\nevent: rollout\ndata: {}\n\n", i+1)
	}
	poll(t, "a redraw due", clk.HasWaiters)
	if n := draws.Load(); n != 1 {
		t.Fatalf("%d frames drawn before the redraw interval passed, want 1", n)
	}
	clk.Step(redrawInterval)
	poll(t, "the second frame", func() bool { return draws.Load() == 2 })
	stream.Close()
	if err := <-ended; !errors.Is(err, errStreamEnded) {
		t.Errorf("follow returned %v at the stream's end, want errStreamEnded", err)
	}
	if n := draws.Load(); n != 2 {
		t.Errorf("%d frames drawn, want 2", n)
	}
	if got := out.String(); got != "frame 1\nframe 2\n" {
		t.Errorf("output %q", got)
	}
}

// poll waits until cond holds, failing the test after a deadline.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s", what)
		}
		<-time.After(5 * time.Millisecond)
	}
}

// On a terminal, a frame replaces the last under a header, and an
// unchanged frame is not drawn again.
func TestWatchRedrawsATerminalInPlace(t *testing.T) {
	c, err := (&apiFlags{server: "http://127.0.0.1:1"}).client()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	w := &watcher{c: c, out: out, term: terminal{tty: true}, clock: testingclock.NewFakeClock(time.Now()),
		draw: func(context.Context) (string, error) { return "frame\n", nil }}
	for range 2 {
		if err := w.redraw(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got := out.String()
	if !strings.HasPrefix(got, clearScreen+"jibe status · http://127.0.0.1:1 · ") || !strings.HasSuffix(got, "Ctrl-C ends\n\nframe\n") ||
		strings.Count(got, clearScreen) != 1 {
		t.Errorf("terminal output %q", got)
	}
}

// Colour only where the terminal takes it; tables are cut to the width.
func TestTerminalColourAndWidth(t *testing.T) {
	tty := terminal{tty: true, color: true, width: 80}
	if got := tty.paint(ansiRed, "failed"); got != ansiRed+"failed"+ansiReset {
		t.Errorf("paint on a colour terminal = %q", got)
	}
	t.Setenv("NO_COLOR", "1")
	if term := terminalOf(&syncBuffer{}); term.color || term.tty {
		t.Errorf("a buffer is described as %+v", term)
	}
	if got := (terminal{}).paint(ansiRed, "failed"); got != "failed" {
		t.Errorf("paint without colour = %q", got)
	}
	tb := &table{header: []string{"A", "B"}, shrink: []int{1}, minimum: 3}
	tb.add(plain("x", strings.Repeat("y", 20))...)
	if got := tb.render(terminal{}, 10); got != "A  B\nx  yyyyyy…\n" {
		t.Errorf("a table cut to 10 columns:\n%s", got)
	}
}
