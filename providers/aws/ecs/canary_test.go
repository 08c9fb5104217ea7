package ecs

import (
	"testing"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func canary() *spec.Strategy {
	ten, fifty := spec.Percent(10), spec.Percent(50)
	return &spec.Strategy{Canary: &spec.Canary{Steps: []spec.CanaryStep{{SetWeight: &ten}, {SetWeight: &fifty}}}}
}

func TestCanaryTenFiftyPromoteWithZero5xx(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", canary())
	r.rollout(v1)
	if r.live("web-canary") != nil {
		t.Fatalf("first deploy started a canary service")
	}
	r.sending = true
	r.resetTraffic()
	v2 := r.next(v1, "rev2", "shop/web:v2")
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	if h := r.waitHealth(v2); h.State != reconcile.HealthHealthy {
		t.Fatalf("canary: %+v", h)
	}
	for _, w := range []spec.Percent{10, 50} {
		r.resetTraffic()
		r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, v2, w) })
		if got := r.weights(); got[r.green] != int32(w) || got[r.blue] != 100-int32(w) {
			t.Fatalf("weights at %v%%: %v", w, got)
		}
		r.advance(50 * time.Second)
		share := float64(r.byTG[r.green]) * 100 / float64(r.sent)
		if share < float64(w)-5 || share > float64(w)+5 {
			t.Errorf("canary received %.0f%% of traffic at weight %v", share, w)
		}
		if r.errors != 0 {
			t.Errorf("%d 5xx at weight %v", r.errors, w)
		}
	}
	r.resetTraffic()
	r.until("promote", func() error { return r.p.Promote(r.ctx, v2) })
	r.advance(time.Minute)
	if r.errors != 0 {
		t.Errorf("%d of %d requests failed during promotion", r.errors, r.sent)
	}
	assertOnlyStable(t, r, "shop/web:v2")
	if changes, err := r.p.Diff(r.ctx, v2); err != nil || len(changes) != 0 {
		t.Errorf("diff after promotion = %+v, %v", changes, err)
	}
}

// assertOnlyStable checks that nothing of a canary is left: the listener
// forwards everything to stable and only the stable service runs image.
func assertOnlyStable(t *testing.T, r *rig, image string) {
	t.Helper()
	if w := r.weights(); w[r.blue] != 100 || w[r.green] != 0 {
		t.Errorf("listener weights %v, want 100%% stable", w)
	}
	if r.live("web-canary") != nil {
		t.Errorf("canary service left behind")
	}
	if s := r.live("web"); s == nil || r.image(s) != image || s.RunningCount != 2 {
		t.Errorf("stable service: %+v", s)
	}
}

func TestCanaryAbortLeavesNothingBehind(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", canary())
	r.rollout(v1)
	r.sending = true
	r.resetTraffic()
	v2 := r.next(v1, "rev2", "shop/web:v2")
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	r.waitHealth(v2)
	r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, v2, 50) })
	r.advance(30 * time.Second)
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, v2) })
	r.advance(time.Minute)
	assertOnlyStable(t, r, "shop/web:v1")
	if r.errors != 0 {
		t.Errorf("%d of %d requests failed", r.errors, r.sent)
	}
	if changes, err := r.p.Diff(r.ctx, v1); err != nil || len(changes) != 0 {
		t.Errorf("diff against the stable revision after abort = %+v, %v", changes, err)
	}
}

func TestBrokenCanaryFailsAndRollsBackWithoutHurtingStable(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", canary())
	r.rollout(v1)
	r.env.Emu.MarkImageBroken("shop/web:broken")
	r.sending = true
	r.resetTraffic()
	bad := r.next(v1, "rev2", "shop/web:broken")
	r.until("apply", func() error { return r.p.Apply(r.ctx, bad) })
	h := r.waitHealth(bad)
	if h.State != reconcile.HealthFailed {
		t.Fatalf("broken canary: %+v, want failed", h)
	}
	t.Logf("reason: %s", h.Reason)
	if err := r.p.ShiftTraffic(r.ctx, bad, 10); reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
		t.Errorf("shifting to a failed canary: %v, want refused (Waiting)", err)
	}
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, bad) })
	r.advance(time.Minute)
	assertOnlyStable(t, r, "shop/web:v1")
	if r.byTG[r.green] != 0 || r.errorsByTG[r.blue] != 0 {
		t.Errorf("canary got %d requests, stable %d errors", r.byTG[r.green], r.errorsByTG[r.blue])
	}
}
