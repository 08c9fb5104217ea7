package agent

import (
	"testing"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

// A health wait on Kubernetes ends with the watch event of the object it
// waits for: the rollout reaches production and succeeds while the
// agent's clock stands still, so no health timer ever fires.
func TestE2EHealthWaitEndsOnWatchEvents(t *testing.T) {
	e := newE2E(t)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	done := e.final("production", v1)
	deadline := time.Now().Add(60 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("not done after 60s without a clock step; apps %+v", e.agent.Applications())
		}
		e.awaitDue()
		e.drain()
	}
	if r, _ := e.journal.Current(shopApp, "production"); r.State != reconcile.RolloutSucceeded {
		t.Errorf("production %s (%s)", r.State, r.Reason)
	}
}
