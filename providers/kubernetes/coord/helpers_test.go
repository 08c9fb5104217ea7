package coord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

func TestMain(m *testing.M) { kube.Main(m, kube.Options{Nodes: 1}) }

// pollTimeout bounds every wait on the cluster (real time).
const pollTimeout = 60 * time.Second

var errUnreachable = errors.New("test: API server unreachable")

// unreachable fails every request while its flag is set: the replica's
// API server is cut off.
type unreachable struct {
	rt  http.RoundTripper
	cut *atomic.Bool
}

func (u unreachable) RoundTrip(r *http.Request) (*http.Response, error) {
	if u.cut.Load() {
		return nil, errUnreachable
	}
	return u.rt.RoundTrip(r)
}

// newClient returns a clientset of its own for one replica, and the flag
// that cuts it off from the API server.
func newClient(t *testing.T, c *kube.Cluster) (kubernetes.Interface, *atomic.Bool) {
	t.Helper()
	cut := &atomic.Bool{}
	cfg := c.RESTConfig()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return unreachable{rt: rt, cut: cut} })
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client, cut
}

// quietLogger drops logs (failed renewals are expected in these tests).
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// poll waits for cond, checked every 10ms, failing t after pollTimeout.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	pollWithin(t, pollTimeout, what, cond)
}

// pollWithin waits for cond, checked every 10ms, failing t after timeout.
func pollWithin(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, timeout, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// holders checks that no key is held by two replicas at once: a replica
// records a key right after Acquire grants it and forgets it right before
// calling release.
type holders struct {
	t    *testing.T
	mu   sync.Mutex
	held map[string]string
	errs atomic.Int64
}

func newHolders(t *testing.T) *holders { return &holders{t: t, held: map[string]string{}} }

func (h *holders) take(key, who string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if other, ok := h.held[key]; ok {
		h.errs.Add(1)
		h.t.Errorf("key %s granted to %s while %s holds it", key, who, other)
		return
	}
	h.held[key] = who
}

func (h *holders) drop(key, who string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held[key] == who {
		delete(h.held, key)
	}
}

// keys returns n keys shaped like application identities.
func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("apps/app-%03d", i)
	}
	return out
}

// shardsEnv is a set of Shards members in one namespace, driven by one
// fake clock.
type shardsEnv struct {
	t       *testing.T
	cluster *kube.Cluster
	ns      string
	clock   *testingclock.FakeClock
	mu      sync.Mutex
	members map[string]*shardMember
}

// shardMember is one replica: its Shards, its link to the API server and
// how to stop it.
type shardMember struct {
	id     string
	shards *Shards
	cut    *atomic.Bool
	cancel context.CancelFunc
	done   chan error
	gone   bool // stopped cleanly or killed
}

func newShardsEnv(t *testing.T) *shardsEnv {
	c := kube.Shared(t)
	return &shardsEnv{
		t: t, cluster: c, ns: c.NewNamespace(t),
		clock:   testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		members: map[string]*shardMember{},
	}
}

// config is the members' configuration: client-go's default durations, on
// the fake clock.
func (e *shardsEnv) config(id string) Config {
	return Config{
		Namespace: e.ns, Name: "jibe", Identity: id, URL: "http://" + id + ":8080",
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
		Clock: e.clock, Logger: quietLogger(),
	}
}

// start starts member id and waits for its first renewal.
func (e *shardsEnv) start(id string) *shardMember {
	e.t.Helper()
	client, cut := newClient(e.t, e.cluster)
	ctx, cancel := context.WithCancel(context.Background())
	m := &shardMember{id: id, shards: NewShards(client, e.config(id)), cut: cut, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- m.shards.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		// A member still holding keys waits RenewDeadline on the clock.
		err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, pollTimeout, true,
			func(context.Context) (bool, error) {
				select {
				case <-m.done:
					return true, nil
				default:
					e.clock.Step(time.Second)
					return false, nil
				}
			})
		if err != nil {
			e.t.Errorf("member %s did not stop: %v", id, err)
		}
	})
	e.mu.Lock()
	e.members[id] = m
	e.mu.Unlock()
	e.quiesce()
	return m
}

// stop stops member id cleanly: it deletes its Lease.
func (e *shardsEnv) stop(id string) {
	e.t.Helper()
	m := e.member(id)
	m.cancel()
	if err := <-m.done; err != nil {
		e.t.Fatalf("member %s: Run: %v", id, err)
	}
	m.done <- nil // for the cleanup
	e.mu.Lock()
	m.gone = true
	e.mu.Unlock()
}

// kill cuts member id off the API server: it renews no more, its Lease
// stays until it expires.
func (e *shardsEnv) kill(id string) {
	m := e.member(id)
	m.cut.Store(true)
	e.mu.Lock()
	m.gone = true
	e.mu.Unlock()
}

func (e *shardsEnv) member(id string) *shardMember {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.members[id]
}

// running returns the members neither stopped nor killed.
func (e *shardsEnv) running() []*shardMember {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*shardMember
	for _, m := range e.members {
		if !m.gone {
			out = append(out, m)
		}
	}
	return out
}

// tick advances the clock by one RetryPeriod and waits for every running
// member to renew and to see every other Lease as the API server has it.
func (e *shardsEnv) tick() {
	e.t.Helper()
	e.clock.Step(2 * time.Second)
	e.quiesce()
}

// quiesce waits until every running member renewed at the clock's time and
// its informer holds every member Lease as the API server does.
func (e *shardsEnv) quiesce(nudge ...func()) {
	e.t.Helper()
	admin := e.cluster.Clientset()
	poll(e.t, "members to renew and agree", func() bool {
		for _, f := range nudge {
			f()
		}
		list, err := admin.CoordinationV1().Leases(e.ns).List(e.t.Context(), metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, m := range e.running() {
			if !m.settledOn(list.Items, e.clock.Now()) {
				return false
			}
		}
		return true
	})
}

// settledOn reports whether m renewed at now and its informer holds exactly
// the member Leases of leases.
func (m *shardMember) settledOn(leases []coordinationv1.Lease, now time.Time) bool {
	s := m.shards
	s.mu.Lock()
	renewed := s.renewed.Equal(now) && s.current(now)
	s.mu.Unlock()
	if !renewed {
		return false
	}
	store := s.members.informer.GetStore()
	if len(store.ListKeys()) != len(leases) {
		return false
	}
	for i := range leases {
		obj, ok, _ := store.Get(&leases[i])
		if !ok || obj.(*coordinationv1.Lease).ResourceVersion != leases[i].ResourceVersion {
			return false
		}
	}
	return true
}

// eventually ticks until cond holds, at most ticks times.
func (e *shardsEnv) eventually(what string, ticks int, cond func() error) {
	e.t.Helper()
	var err error
	for i := 0; i <= ticks; i++ {
		if err = cond(); err == nil {
			return
		}
		if i < ticks {
			e.tick()
		}
	}
	e.t.Fatalf("%s: not after %d ticks: %v", what, ticks, err)
}

// grantable returns the members (among ms) that Acquire key now, releasing
// at once.
func grantable(key string, ms []*shardMember) []string {
	var out []string
	for _, m := range ms {
		if release, ok := m.shards.Acquire(key); ok {
			out = append(out, m.id)
			release()
		}
	}
	return out
}

// exactlyOne checks that every key is grantable by exactly one of ms, and
// returns how many keys each one has.
func exactlyOne(ks []string, ms []*shardMember) (map[string]int, error) {
	counts := map[string]int{}
	for _, k := range ks {
		g := grantable(k, ms)
		if len(g) != 1 {
			return nil, fmt.Errorf("key %s grantable by %v", k, g)
		}
		counts[g[0]]++
	}
	return counts, nil
}
