package ecs

import (
	"slices"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

// While a rolling service behind a target group waits for its targets,
// the health reason says so, with the load balancer's state and how long
// its health checks take: the reason a waiting step logs once per change.
func TestHealthReasonNamesTargetHealth(t *testing.T) {
	r := newRig(t)
	d := r.deployment("rev1", "shop/web:v1", nil)
	r.until("apply", func() error { return r.p.Apply(r.ctx, d) })
	var reasons []string
	for range 120 {
		h, err := r.p.Health(r.ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(reasons) == 0 || reasons[len(reasons)-1] != h.Reason {
			reasons = append(reasons, h.Reason)
		}
		if h.State != reconcile.HealthProgressing {
			break
		}
		r.advance(time.Second)
	}
	want := "service web: 2 of 2 tasks running; targets initial (health checks pass after 2 × 5 s)"
	if !slices.Contains(reasons, want) {
		t.Errorf("health reasons %q, want one %q", reasons, want)
	}
}
