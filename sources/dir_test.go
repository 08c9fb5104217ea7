package sources

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/config"
)

const (
	minQuiet = 100 * time.Millisecond
	maxWait  = 300 * time.Millisecond
)

type dirHarness struct {
	t     *testing.T
	root  string
	clock *clocktesting.FakeClock
	dir   *Dir
	out   chan Update
}

// startDir runs a Dir source over a folder holding apps/web.
func startDir(t *testing.T) *dirHarness {
	h := &dirHarness{t: t, root: t.TempDir(), clock: newFakeClock(), out: make(chan Update, 10)}
	h.write("apps/web/jibe.yaml", webSpec)
	src := config.Source{Name: "local", Dir: &config.DirSource{Path: h.root}}
	d, err := NewDir(src, DirOptions{MinQuiet: minQuiet, MaxWait: maxWait, Clock: h.clock, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	h.dir = d
	done := make(chan error)
	go func() { done <- d.Run(t.Context(), h.out) }()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	u := receive(t, h.out, "the initial update")
	if u.Transition != TransitionInitial || !reflect.DeepEqual(changes(u), map[string]Change{"apps/web": ChangeAdded}) {
		t.Fatalf("initial update %+v", u)
	}
	return h
}

func (h *dirHarness) write(name, content string) {
	h.t.Helper()
	p := filepath.Join(h.root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// writeSeen writes a file and waits until the source has seen the change
// and armed its debounce timer.
func (h *dirHarness) writeSeen(name, content string) {
	h.t.Helper()
	before := h.dir.armed.Load()
	h.write(name, content)
	eventually(h.t, "the source sees "+name, func() bool { return h.dir.armed.Load() > before })
}

// settle advances the clock by step until the source has taken a
// snapshot. (File events may reach the source after the test's write
// returned, restarting the quiet time, so one step may not be enough.)
func (h *dirHarness) settle(step time.Duration) {
	h.t.Helper()
	before := h.dir.taken.Load()
	eventually(h.t, "the source takes a snapshot", func() bool {
		h.clock.Step(step)
		return h.dir.taken.Load() > before
	})
}

// nextUpdate advances the clock by step until an Update arrives.
func (h *dirHarness) nextUpdate(step time.Duration) Update {
	h.t.Helper()
	var u Update
	eventually(h.t, "an update arrives", func() bool {
		select {
		case u = <-h.out:
			return true
		default:
			h.clock.Step(step)
			return false
		}
	})
	return u
}

// noUpdate fails if an Update is waiting.
func (h *dirHarness) noUpdate(when string) {
	h.t.Helper()
	select {
	case u := <-h.out:
		h.t.Fatalf("unexpected update %s: %+v", when, u)
	default:
	}
}

func TestDirReportsAChangeAfterQuiet(t *testing.T) {
	h := startDir(t)
	h.writeSeen("apps/web/jibe.yaml", "name: web\n# v2\n")
	h.clock.Step(minQuiet - time.Millisecond)
	h.noUpdate("before the quiet time")
	u := h.nextUpdate(time.Millisecond)
	if u.Transition != TransitionFastForward || !strings.HasPrefix(u.Commit.SHA, "sha256:") || u.Previous == u.Commit.SHA {
		t.Fatalf("update %+v", u)
	}
	rev := app(t, u, "apps/web")
	if rev.Change != ChangeModified || readApp(t, rev.Revision.Files)["jibe.yaml"] != "name: web\n# v2\n" {
		t.Fatalf("web: %+v", rev)
	}
}

func TestDirBurstYieldsOneRevision(t *testing.T) {
	h := startDir(t)
	for i := range 20 {
		h.write(fmt.Sprintf("apps/web/f%02d.yaml", i), "x")
	}
	h.writeSeen("apps/web/last.yaml", "last")
	u := h.nextUpdate(minQuiet)
	if n := len(readApp(t, app(t, u, "apps/web").Revision.Files)); n != 22 {
		t.Fatalf("the revision holds %d files, want all 22", n)
	}
	// The next revision is the next change: the burst made no other.
	h.writeSeen("apps/web/jibe.yaml", "name: web\n# after\n")
	u2 := h.nextUpdate(minQuiet)
	if u2.Previous != u.Commit.SHA || readApp(t, app(t, u2, "apps/web").Revision.Files)["jibe.yaml"] != "name: web\n# after\n" {
		t.Fatalf("next update %+v does not follow the burst's %s", u2, u.Commit.SHA)
	}
}

func TestDirWatchesNewSubfolders(t *testing.T) {
	h := startDir(t)
	if err := os.MkdirAll(filepath.Join(h.root, "apps/new/deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new folder is seen", func() bool { return h.dir.armed.Load() > 0 })
	h.settle(maxWait) // empty folders change no content: no update
	h.writeSeen("apps/new/deep/jibe.yaml", "name: deep\n")
	u := h.nextUpdate(minQuiet)
	want := map[string]Change{"apps/web": ChangeUnchanged, "apps/new/deep": ChangeAdded}
	if !reflect.DeepEqual(changes(u), want) {
		t.Fatalf("changes %v, want %v", changes(u), want)
	}
}

func TestDirMaxWaitFiresDuringContinuousWrites(t *testing.T) {
	h := startDir(t)
	step := minQuiet * 4 / 5 // writes keep coming before the quiet time ends
	start := h.clock.Now()
	h.writeSeen("apps/web/a.txt", "0")
	for i := 1; time.Duration(i)*step < maxWait; i++ {
		h.clock.Step(step)
		h.noUpdate(fmt.Sprintf("after %v of writes", time.Duration(i)*step))
		h.writeSeen("apps/web/a.txt", fmt.Sprint(i))
	}
	const tick = 10 * time.Millisecond
	u := h.nextUpdate(tick)
	if app(t, u, "apps/web").Change != ChangeModified {
		t.Fatalf("update %+v", u)
	}
	// The last write restarted the quiet time; the max wait cut it short.
	if waited := h.clock.Now().Sub(start); waited > maxWait+tick {
		t.Fatalf("the update came %v after the first write, want at most %v", waited, maxWait)
	}
}

func TestDirTouchWithoutChangeYieldsNothing(t *testing.T) {
	h := startDir(t)
	h.writeSeen("apps/web/jibe.yaml", webSpec) // same content
	h.settle(minQuiet)
	h.writeSeen("apps/web/jibe.yaml", "name: web\n# v2\n")
	u := h.nextUpdate(minQuiet)
	if readApp(t, app(t, u, "apps/web").Revision.Files)["jibe.yaml"] != "name: web\n# v2\n" {
		t.Fatalf("the first update after a touch is %+v: %q", u, readApp(t, app(t, u, "apps/web").Revision.Files))
	}
}

func TestDebouncer(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name   string
		events []int
		check  int
		due    bool
	}{
		{"nothing pending", nil, 1000, false},
		{"quiet time not over", []int{0}, 99, false},
		{"quiet time over", []int{0}, 100, true},
		{"each event restarts the quiet time", []int{0, 50, 90}, 150, false},
		{"max wait caps the quiet time", []int{0, 90, 180, 270}, 300, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := debouncer{min: 100 * time.Millisecond, max: 300 * time.Millisecond}
			for _, ms := range tt.events {
				d.observe(at(ms))
			}
			if got := d.due(at(tt.check)); got != tt.due {
				t.Fatalf("due = %v, want %v", got, tt.due)
			}
			if tt.due && d.pending {
				t.Fatal("a fired burst is still pending")
			}
		})
	}
}

func TestMemFS(t *testing.T) {
	m := memFS{files: map[string][]byte{"jibe.yaml": []byte("a"), "k8s/d.yaml": []byte("b"), "k8s/x/y": []byte("c")}}
	if err := fstest.TestFS(m, "jibe.yaml", "k8s/d.yaml", "k8s/x/y"); err != nil {
		t.Fatal(err)
	}
}
