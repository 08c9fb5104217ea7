package agent

import (
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

// waitOnChange leaves key as a reconcile that ended waiting on a
// platform's change does.
func waitOnChange(a *Agent, key string) {
	a.wakes.begin(key)
	a.wakes.end(key, &reconcile.WaitingError{Reason: "1 of 2 pods updated", OnChange: true})
}

// nextKeys takes n keys from the agent's work queue, marking each done.
func nextKeys(t *testing.T, a *Agent, n int) []string {
	t.Helper()
	var got []string
	for range n {
		key, shutdown := a.queue.Get()
		if shutdown {
			t.Fatal("the queue shut down")
		}
		a.queue.Done(key)
		got = append(got, key)
	}
	return got
}

// A cold sync of many applications queues them all at once: an
// application whose rollout waits on its platform and is woken by a change
// there goes before those not started yet, so that it is reported when
// its platform gets there, not after every other application's first
// reconcile.
func TestWokenApplicationGoesBeforeQueuedOnes(t *testing.T) {
	a := newHarness(t).agent
	waitOnChange(a, "shop/apps/rolling")
	for _, key := range []string{"shop/apps/new1", "shop/apps/new2"} {
		a.queue.Add(key)
	}
	if !a.wakes.wake("shop/apps/rolling") {
		t.Fatal("a change did not wake the waiting application")
	}
	a.queue.Add("shop/apps/rolling") // as changed does
	got := nextKeys(t, a, 3)
	want := []string{"shop/apps/rolling", "shop/apps/new1", "shop/apps/new2"}
	if !equalKeys(got, want) {
		t.Errorf("queue order %v, want %v", got, want)
	}
}

// A woken application already queued (say by its wait's timer) moves up
// to the woken ones; woken applications keep their order among
// themselves, and what is queued afterwards without a wake goes last.
func TestWakeMovesAQueuedApplicationUp(t *testing.T) {
	a := newHarness(t).agent
	waitOnChange(a, "shop/apps/a")
	waitOnChange(a, "shop/apps/b")
	a.queue.Add("shop/apps/new1")
	a.queue.Add("shop/apps/b") // its timer fired
	for _, key := range []string{"shop/apps/a", "shop/apps/b"} {
		if !a.wakes.wake(key) {
			t.Fatalf("a change did not wake %s", key)
		}
		a.queue.Add(key)
	}
	a.queue.Add("shop/apps/new2")
	got := nextKeys(t, a, 4)
	want := []string{"shop/apps/a", "shop/apps/b", "shop/apps/new1", "shop/apps/new2"}
	if !equalKeys(got, want) {
		t.Errorf("queue order %v, want %v", got, want)
	}
}

// A change reported while the application was being reconciled queues it
// again at once, as woken.
func TestChangeDuringReconcileRequeuesAsWoken(t *testing.T) {
	a := newHarness(t).agent
	a.queue.Add("shop/apps/new1")
	a.wakes.begin("shop/apps/a")
	if a.wakes.wake("shop/apps/a") {
		t.Fatal("an application being reconciled was queued by a change")
	}
	if !a.wakes.end("shop/apps/a", &reconcile.WaitingError{Reason: "rolling", OnChange: true}) {
		t.Fatal("a change during the reconcile did not ask for another")
	}
	a.queue.Add("shop/apps/a") // as processNext does
	got := nextKeys(t, a, 2)
	want := []string{"shop/apps/a", "shop/apps/new1"}
	if !equalKeys(got, want) {
		t.Errorf("queue order %v, want %v", got, want)
	}
}

func equalKeys(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
