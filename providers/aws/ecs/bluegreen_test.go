package ecs

import (
	"testing"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func blueGreen() *spec.Strategy {
	return &spec.Strategy{BlueGreen: &spec.BlueGreen{DrainTime: &spec.Duration{Duration: 45 * time.Second}}}
}

func TestBlueGreenSwitchesWithZero5xx(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", blueGreen())
	r.rollout(v1)
	r.sending = true
	r.resetTraffic()

	v2 := r.next(v1, "rev2", "shop/web:v2")
	if err := r.p.Apply(r.ctx, v2); err != nil {
		t.Fatal(err)
	}
	if err := r.p.ShiftTraffic(r.ctx, v2, 100); reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
		t.Fatalf("switch before the new version is healthy: %v, want Waiting", err)
	}
	if h := r.waitHealth(v2); h.State != reconcile.HealthHealthy {
		t.Fatalf("green: %+v", h)
	}
	if r.byTG[r.green] != 0 {
		t.Errorf("green received %d requests before the switch", r.byTG[r.green])
	}
	r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, v2, 100) })
	if w := r.weights(); w[r.green] != 100 || w[r.blue] != 0 {
		t.Fatalf("weights after switch: %v", w)
	}
	err := r.p.Promote(r.ctx, v2)
	if reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
		t.Fatalf("promote right after the switch: %v, want Waiting for draining", err)
	}
	if old := r.live(v1.Target.Service.ServiceName); old == nil || old.DesiredCount != 2 {
		t.Fatalf("old version scaled down before draining: %+v", old)
	}
	r.advance(45 * time.Second)
	r.until("promote", func() error { return r.p.Promote(r.ctx, v2) })
	if old := r.live("web"); old == nil || old.DesiredCount != 0 {
		t.Errorf("old slot after promote: %+v, want scaled to zero", old)
	}
	r.advance(time.Minute)
	r.until("cleanup", func() error { return r.p.Cleanup(r.ctx, v2) })
	r.advance(time.Minute)
	if r.live("web") != nil {
		t.Errorf("old slot still exists after cleanup")
	}
	if g := r.live("web-green"); g == nil || r.image(g) != "shop/web:v2" {
		t.Fatalf("green slot: %+v", g)
	}
	if r.errors != 0 || r.byTG[r.green] == 0 {
		t.Errorf("%d of %d requests failed (green got %d)", r.errors, r.sent, r.byTG[r.green])
	}
	changes, err := r.p.Diff(r.ctx, v2)
	if err != nil || len(changes) != 0 {
		t.Errorf("diff after blue/green = %+v, %v; want none", changes, err)
	}

	// The next rollout goes back to the blue slot.
	r.resetTraffic()
	v3 := r.next(v2, "rev3", "shop/web:v3")
	r.rollout(v3)
	if b := r.live("web"); b == nil || r.image(b) != "shop/web:v3" || r.live("web-green") != nil {
		t.Errorf("third rollout did not land on the blue slot")
	}
	if w := r.weights(); w[r.blue] != 100 || r.errors != 0 {
		t.Errorf("weights %v, %d errors", w, r.errors)
	}
}

func TestBlueGreenRollbackAfterSwitchRestoresOldVersion(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", blueGreen())
	r.rollout(v1)
	r.sending = true
	r.resetTraffic()
	v2 := r.next(v1, "rev2", "shop/web:v2")
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	r.waitHealth(v2)
	r.until("promote", func() error { return r.p.Promote(r.ctx, v2) })
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, v2) })
	r.advance(time.Minute)
	if w := r.weights(); w[r.blue] != 100 {
		t.Errorf("weights after rollback %v", w)
	}
	if r.live("web-green") != nil {
		t.Errorf("new slot left behind")
	}
	if b := r.live("web"); b == nil || b.DesiredCount != 2 || r.image(b) != "shop/web:v1" {
		t.Errorf("old slot after rollback: %+v", b)
	}
	if r.errors != 0 {
		t.Errorf("%d of %d requests failed", r.errors, r.sent)
	}
}

func TestBlueGreenReusesTheOldSlotKeptForRollback(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", blueGreen())
	r.rollout(v1)
	v2 := r.next(v1, "rev2", "shop/web:v2")
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	r.waitHealth(v2)
	r.until("promote", func() error { return r.p.Promote(r.ctx, v2) })
	// A new revision arrives within the rollback window, before cleanup.
	r.sending = true
	r.resetTraffic()
	v3 := r.next(v2, "rev3", "shop/web:v3")
	r.until("apply", func() error { return r.p.Apply(r.ctx, v3) })
	if h := r.waitHealth(v3); h.State != reconcile.HealthHealthy {
		t.Fatalf("v3: %+v", h)
	}
	if b := r.live("web"); b.DesiredCount != 2 || b.RunningCount != 2 {
		t.Fatalf("reused slot runs %d of %d tasks", b.RunningCount, b.DesiredCount)
	}
	r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, v3, 100) })
	r.until("promote", func() error { return r.p.Promote(r.ctx, v3) })
	r.until("cleanup", func() error { return r.p.Cleanup(r.ctx, v3) })
	r.advance(time.Minute)
	if r.errors != 0 || r.live("web-green") != nil || r.image(r.live("web")) != "shop/web:v3" {
		t.Errorf("%d errors; green left %v", r.errors, r.live("web-green") != nil)
	}
}
