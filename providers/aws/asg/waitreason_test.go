package asg

import (
	"testing"
)

// While a group's new instances wait for their target group's health
// checks, the health reason names the targets' state with the load
// balancer's reason and how long its health checks take.
func TestHealthReasonNamesTargetHealth(t *testing.T) {
	r := newRig(t)
	d := r.deployment("rev1", "ami-00000001", nil)
	r.until("apply", func() error { return r.p.Apply(r.ctx, d) })
	_, seen := r.waitHealth(d)
	if !containsAny(seen, "initial (Elb.InitialHealthChecking: Initial health checks in progress)") ||
		!containsAny(seen, "(health checks pass after 2 × 5 s)") {
		t.Errorf("health reasons %q, want one naming initial targets and the health check pace", seen)
	}
}
