package reconcile

import (
	"testing"
	"time"
)

// A health wait on a platform that reports no changes is checked again
// soon after the step starts or the platform's answer changes, then less
// often while the answer stays the same, never less often than
// healthPoll.
func TestPacerBacksOffWhileNothingChanges(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	var p pacer
	steps := []struct {
		at     time.Duration
		step   int
		reason string
		want   time.Duration
	}{
		{0, 1, "0 of 2 tasks running", time.Second},
		{time.Second, 1, "0 of 2 tasks running", 2 * time.Second},
		{3 * time.Second, 1, "0 of 2 tasks running", 4 * time.Second},
		{7 * time.Second, 1, "0 of 2 tasks running", 5 * time.Second},
		{12 * time.Second, 1, "0 of 2 tasks running", 5 * time.Second},
		{17 * time.Second, 1, "1 of 2 tasks running", time.Second},
		{18 * time.Second, 1, "1 of 2 tasks running", 2 * time.Second},
		{20 * time.Second, 2, "1 of 2 tasks running", time.Second},
	}
	for _, s := range steps {
		if got := p.next("r", s.step, s.reason, t0.Add(s.at)); got != s.want {
			t.Errorf("at %s, step %d, %q: next check after %s, want %s", s.at, s.step, s.reason, got, s.want)
		}
	}
	p.forget("r")
	if got := p.next("r", 2, "1 of 2 tasks running", t0.Add(time.Minute)); got != time.Second {
		t.Errorf("after forget: %s, want 1s", got)
	}
}
