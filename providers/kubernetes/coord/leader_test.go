package coord

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

// candidate is one Leader replica running in the test.
type candidate struct {
	id     string
	leader *Leader
	cut    *atomic.Bool
	cancel context.CancelFunc
	done   chan error
}

// startCandidates starts one Leader per id in a fresh namespace, on the
// real clock (client-go's election takes no other).
func startCandidates(t *testing.T, lease, renew, retry time.Duration, ids ...string) []*candidate {
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	var out []*candidate
	for _, id := range ids {
		client, cut := newClient(t, c)
		ctx, cancel := context.WithCancel(context.Background())
		l := NewLeader(client, Config{
			Namespace: ns, Identity: id, URL: "http://" + id + ":8080",
			LeaseDuration: lease, RenewDeadline: renew, RetryPeriod: retry, Logger: quietLogger(),
		})
		cand := &candidate{id: id, leader: l, cut: cut, cancel: cancel, done: make(chan error, 1)}
		go func() { cand.done <- l.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-cand.done })
		out = append(out, cand)
	}
	return out
}

// grants reports whether l grants a key now, releasing it at once.
func grants(l *Leader) bool {
	release, ok := l.Acquire("apps/x")
	if ok {
		release()
	}
	return ok
}

// leading returns the candidates that grant a key now.
func leading(cs []*candidate) []*candidate {
	var out []*candidate
	for _, c := range cs {
		if release, ok := c.leader.Acquire("apps/x"); ok {
			out = append(out, c)
			release()
		}
	}
	return out
}

// sampler acquires a key on every candidate in turn until stopped, holding
// each grant while checking no other candidate holds one.
func sampler(h *holders, cs []*candidate, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			for _, c := range cs {
				select {
				case <-stop:
					return
				default:
				}
				if release, ok := c.leader.Acquire("apps/x"); ok {
					h.take("apps/x", c.id)
					h.drop("apps/x", c.id)
					release()
				}
			}
		}
	}()
	return done
}

// TestLeaderFailover: of two candidates one leads; cut off from its API
// server, it stops granting and loses the lease (Lost, ErrLost), and the
// other leads within the lease duration; never both at once.
func TestLeaderFailover(t *testing.T) {
	cs := startCandidates(t, 2*time.Second, time.Second, 200*time.Millisecond, "a", "b")
	var first *candidate
	poll(t, "a leader", func() bool {
		l := leading(cs)
		if len(l) == 1 {
			first = l[0]
		}
		return len(l) == 1
	})
	other := cs[0]
	if other == first {
		other = cs[1]
	}
	poll(t, "the standby to name the leader", func() bool { return other.leader.Owner("apps/x") == first.id })
	h := newHolders(t)
	stop := make(chan struct{})
	sampled := sampler(h, cs, stop)
	first.cut.Store(true)
	// Lease duration (2s) from the standby's last sight of a renewal, with
	// room for a loaded machine.
	pollWithin(t, 8*time.Second, "the standby to lead within the lease duration", func() bool { return grants(other.leader) })
	close(stop)
	<-sampled
	select {
	case <-first.leader.Lost():
	default:
		t.Errorf("former leader %s: Lost not closed", first.id)
	}
	if err := <-first.done; !errors.Is(err, ErrLost) {
		t.Errorf("former leader %s: Run = %v, want ErrLost", first.id, err)
	}
	first.done <- nil
	if grants(first.leader) {
		t.Error("former leader still grants")
	}
}

// TestLeaderReleaseTakenAtOnce: a leader that exits cleanly releases the
// lease, and the standby takes it at its next retry, long before the lease
// would have expired.
func TestLeaderReleaseTakenAtOnce(t *testing.T) {
	cs := startCandidates(t, 30*time.Second, 20*time.Second, 200*time.Millisecond, "a", "b")
	var first *candidate
	poll(t, "a leader", func() bool {
		l := leading(cs)
		if len(l) == 1 {
			first = l[0]
		}
		return len(l) == 1
	})
	other := cs[0]
	if other == first {
		other = cs[1]
	}
	poll(t, "both member Leases", func() bool {
		ms := other.leader.Members()
		return len(ms) == 2 && ms[0].URL == "http://a:8080" && ms[1].URL == "http://b:8080" && ms[0].Live && ms[1].Live
	})
	release, ok := first.leader.Acquire("apps/x")
	if !ok {
		t.Fatal("leader does not grant")
	}
	first.cancel()
	poll(t, "the leader to stop granting", func() bool { return !grants(first.leader) })
	if grants(other.leader) {
		t.Fatal("standby leads while the leader still holds a key")
	}
	release()
	if err := <-first.done; err != nil {
		t.Fatalf("leader's Run on a clean exit: %v", err)
	}
	first.done <- nil
	// Half the lease duration: only the release lets the standby in.
	pollWithin(t, 15*time.Second, "the standby to take the released lease", func() bool { return grants(other.leader) })
	select {
	case <-first.leader.Lost():
		t.Error("Lost closed on a clean exit")
	default:
	}
	poll(t, "the former leader's member Lease deleted", func() bool { return len(other.leader.Members()) == 1 })
}
