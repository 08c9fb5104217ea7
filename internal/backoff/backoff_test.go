package backoff_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/internal/backoff"
)

func TestCeiling(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    backoff.Backoff
		n    int
		want time.Duration
	}{
		{"first retry", backoff.Backoff{Base: time.Second, Max: time.Minute}, 1, time.Second},
		{"no failure yet", backoff.Backoff{Base: time.Second, Max: time.Minute}, 0, time.Second},
		{"doubles", backoff.Backoff{Base: time.Second, Max: time.Minute}, 4, 8 * time.Second},
		{"capped", backoff.Backoff{Base: time.Second, Max: time.Minute}, 12, time.Minute},
		{"cap below base", backoff.Backoff{Base: time.Hour, Max: time.Minute}, 3, time.Hour},
		{"huge n", backoff.Backoff{Base: time.Second, Max: 5 * time.Minute}, 1 << 20, 5 * time.Minute},
	} {
		if got := tc.b.Ceiling(tc.n); got != tc.want {
			t.Errorf("%s: Ceiling(%d) = %v, want %v", tc.name, tc.n, got, tc.want)
		}
	}
}

// Delays grow exponentially up to Max and are jittered within bounds.
func TestDelayIsJitteredWithinBounds(t *testing.T) {
	b := backoff.Backoff{Base: time.Second, Max: time.Minute, Jitter: 0.5}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 12; n++ {
		c := min(time.Second<<(n-1), time.Minute)
		for range 100 {
			if d := b.Delay(n, r); d < c/2 || d > c+c/2 {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", n, d, c/2, c+c/2)
			}
		}
	}
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[b.Delay(5, r)] = true
	}
	if len(seen) < 10 {
		t.Errorf("delays are not jittered: %v", seen)
	}
}

// Without jitter, delays are exactly the ceiling, so that tests driving a
// fake clock can assert them.
func TestDelayWithoutJitterIsExact(t *testing.T) {
	b := backoff.Backoff{Base: time.Second, Max: 30 * time.Second}
	for n, want := range []time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second} {
		if want != 0 && b.Delay(n, nil) != want {
			t.Errorf("Delay(%d) = %v, want %v", n, b.Delay(n, nil), want)
		}
	}
}

// Per item, failures grow the delay and Forget starts again from Base,
// as client-go's exponential failure limiter does.
func TestPerItem(t *testing.T) {
	p := backoff.NewPerItem[string](backoff.Backoff{Base: time.Second, Max: 5 * time.Minute})
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if got := p.When("a"); got != want {
			t.Fatalf("When(a) = %v, want %v", got, want)
		}
	}
	if got := p.When("b"); got != time.Second {
		t.Errorf("When(b) = %v, want 1s: items back off independently", got)
	}
	if n := p.NumRequeues("a"); n != 3 {
		t.Errorf("NumRequeues(a) = %d, want 3", n)
	}
	p.Forget("a")
	if got, n := p.When("a"), p.NumRequeues("a"); got != time.Second || n != 1 {
		t.Errorf("after Forget: When(a) = %v, NumRequeues = %d, want 1s and 1", got, n)
	}
}
