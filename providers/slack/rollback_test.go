package slack

import (
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

// A failure that starts a rollback is sent; if the rollback then fails
// too, that is sent as well, once, saying so. A failed first deploy, with
// nothing to roll back to, is sent once with what was done.
func TestFailedRollbackIsSentAfterTheFailure(t *testing.T) {
	rcv := newReceiver(t)
	e := newNotifier(t, Options{}, webhook(t, "ops", rcv.url()))
	r := rollout()
	r.RollingBack = true
	over := *r
	over.State = reconcile.RolloutFailed
	first := rollout()
	first.ID, first.RollingBack, first.State = "shop/checkout/staging/abc1234def", true, reconcile.RolloutFailed
	first.Env = "staging"
	for _, ev := range []reconcile.Event{
		{Kind: reconcile.EventFailed, Rollout: r, Message: "check smoke failed"},
		{Kind: reconcile.EventWaiting, Rollout: r, Message: "failed, rolling back to 1a2b3c4: waiting for web to be healthy again"},
		{Kind: reconcile.EventFailed, Rollout: &over, Message: "rollback to 1a2b3c4 failed (not over after 10m0s)"},
		{Kind: reconcile.EventFailed, Rollout: &over, Message: "rollback to 1a2b3c4 failed (not over after 10m0s)"},
		{Kind: reconcile.EventFailed, Rollout: first, Message: "first deploy removed (nothing to roll back to): check smoke failed; push a fix"},
	} {
		e.n.Notify(ev)
	}
	e.flush(t)
	want := []string{
		":x: shop/checkout production failed to deploy abc1234: check smoke failed",
		":x: shop/checkout production failed to deploy abc1234: rollback to 1a2b3c4 failed (not over after 10m0s)",
		":x: shop/checkout staging failed to deploy abc1234: first deploy removed (nothing to roll back to): check smoke failed; push a fix",
	}
	if got := rcv.texts(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
