package coord

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestShardsSpreadKeys: three members spread 300 keys, each grantable by
// exactly one member, the one every member names as its owner.
func TestShardsSpreadKeys(t *testing.T) {
	e := newShardsEnv(t)
	a, b, c := e.start("a"), e.start("b"), e.start("c")
	ms := []*shardMember{a, b, c}
	ks := keys(300)
	var counts map[string]int
	e.eventually("every key grantable by exactly one member", 3, func() (err error) {
		counts, err = exactlyOne(ks, ms)
		return err
	})
	for _, m := range ms {
		if counts[m.id] < 50 {
			t.Errorf("member %s has %d keys of 300, want a fair share: %v", m.id, counts[m.id], counts)
		}
	}
	for _, k := range ks {
		g := grantable(k, ms)
		for _, m := range ms {
			if got := m.shards.Owner(k); got != g[0] {
				t.Fatalf("member %s says %s owns %s; %s is granted it", m.id, got, k, g[0])
			}
		}
	}
	want := []Member{{"a", "http://a:8080", true}, {"b", "http://b:8080", true}, {"c", "http://c:8080", true}}
	if got := a.shards.Members(); !slices.Equal(got, want) {
		t.Errorf("Members() = %v, want %v", got, want)
	}
}

// TestShardsMemberKilled: a member cut off while holding keys keeps them
// from the others until its Lease expires; then each of its keys is
// grantable by exactly one of the others.
func TestShardsMemberKilled(t *testing.T) {
	e := newShardsEnv(t)
	a, b, c := e.start("a"), e.start("b"), e.start("c")
	ks := keys(300)
	e.eventually("keys spread", 3, func() error { _, err := exactlyOne(ks, []*shardMember{a, b, c}); return err })
	var cKeys []string
	for _, k := range ks {
		if release, ok := c.shards.Acquire(k); ok {
			cKeys = append(cKeys, k) // held: c dies in the middle of a step
			t.Cleanup(release)       // before c's Run ends
		}
	}
	c.shards.mu.Lock()
	lastRenewal := c.shards.renewed
	c.shards.mu.Unlock()
	e.kill("c")
	survivors := []*shardMember{a, b}
	for e.clock.Since(lastRenewal) < 15*time.Second {
		for _, k := range cKeys {
			if g := grantable(k, survivors); len(g) > 0 {
				t.Fatalf("key %s of c grantable by %v %s after c's last renewal, before its Lease expired",
					k, g, e.clock.Since(lastRenewal))
			}
		}
		e.tick()
	}
	e.eventually("c's keys owned again", 3, func() error { _, err := exactlyOne(ks, survivors); return err })
	if late := e.clock.Since(lastRenewal); late > 15*time.Second+3*2*time.Second {
		t.Errorf("c's keys owned again %s after its last renewal; want within the lease duration and 3 retry periods", late)
	}
	for _, m := range survivors {
		if got := m.shards.Members(); len(got) != 3 || got[2].Live {
			t.Errorf("member %s: Members() = %v, want c listed as not live", m.id, got)
		}
	}
	// c's Lease is deleted once stale (10 lease durations), and nothing moves.
	for e.clock.Since(lastRenewal) <= 10*15*time.Second {
		e.tick()
	}
	e.eventually("c's stale Lease deleted", 2, func() error {
		if got := a.shards.Members(); len(got) != 2 {
			return fmt.Errorf("members %v", got)
		}
		_, err := exactlyOne(ks, survivors)
		return err
	})
}

// TestShardsJoinWaitsForRelease: a key that moves to a newcomer while its
// former owner holds it becomes the newcomer's only once released.
func TestShardsJoinWaitsForRelease(t *testing.T) {
	e := newShardsEnv(t)
	a, b := e.start("a"), e.start("b")
	ks := keys(300)
	e.eventually("keys spread", 3, func() error { _, err := exactlyOne(ks, []*shardMember{a, b}); return err })
	var moving string
	for _, k := range ks {
		if owner(k, []string{"a", "b"}) == "a" && owner(k, []string{"a", "b", "c"}) == "c" {
			moving = k
			break
		}
	}
	release, ok := a.shards.Acquire(moving)
	if !ok {
		t.Fatalf("a cannot acquire its key %s", moving)
	}
	t.Cleanup(release)
	changes := a.shards.Changes()
	drain(changes)
	c := e.start("c")
	all := []*shardMember{a, b, c}
	// a settles on {a, b, c} only once it released the key moving to c:
	// until then c gets b's keys, and a's keys that move to c wait.
	e.eventually("b's keys moving to c settled", 4, func() error {
		for _, k := range ks {
			g := grantable(k, all)
			fromA := owner(k, []string{"a", "b"}) == "a" && owner(k, []string{"a", "b", "c"}) == "c"
			if fromA && len(g) > 0 || !fromA && len(g) != 1 {
				return fmt.Errorf("key %s grantable by %v", k, g)
			}
		}
		return nil
	})
	select {
	case <-changes:
	default:
		t.Error("a's Changes did not signal c's arrival")
	}
	for range 3 {
		if g := grantable(moving, []*shardMember{b, c}); len(g) > 0 {
			t.Fatalf("key %s held by a is grantable by %v", moving, g)
		}
		e.tick()
	}
	release()
	e.eventually("c acquires the released key", 3, func() error {
		if g := grantable(moving, all); !slices.Equal(g, []string{"c"}) {
			return fmt.Errorf("key %s grantable by %v, want [c]", moving, g)
		}
		_, err := exactlyOne(ks, all)
		return err
	})
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// TestShardsStopGrantingWhenRenewFails: a member cut off from its API
// server grants nothing once RenewDeadline has passed since its last
// renewal.
func TestShardsStopGrantingWhenRenewFails(t *testing.T) {
	e := newShardsEnv(t)
	a, b := e.start("a"), e.start("b")
	ks := keys(300)
	e.eventually("keys spread", 3, func() error { _, err := exactlyOne(ks, []*shardMember{a, b}); return err })
	a.shards.mu.Lock()
	lastRenewal := a.shards.renewed
	a.shards.mu.Unlock()
	drain(a.shards.Changes())
	e.kill("a")
	for e.clock.Since(lastRenewal) < 10*time.Second {
		e.tick()
	}
	for _, k := range ks {
		if _, ok := a.shards.Acquire(k); ok {
			t.Fatalf("a grants %s %s after its last renewal (renewDeadline 10s)", k, e.clock.Since(lastRenewal))
		}
	}
	poll(t, "a's Changes to signal", func() bool {
		select {
		case <-a.shards.Changes():
			return true
		default:
			return false
		}
	})
}

// worker acquires random keys of one member and holds some of them across
// passes, recording holdings in a shared checker.
type worker struct {
	m     *shardMember
	h     *holders
	ks    []string
	nudge chan struct{}
	stop  chan struct{}
	done  chan struct{}
	held  map[string]func()
	rng   *rand.Rand
}

func startWorker(m *shardMember, h *holders, ks []string, seed uint64) *worker {
	w := &worker{m: m, h: h, ks: ks, nudge: make(chan struct{}, 1), stop: make(chan struct{}),
		done: make(chan struct{}), held: map[string]func(){}, rng: rand.New(rand.NewPCG(seed, 1))}
	go w.run()
	return w
}

func (w *worker) run() {
	defer close(w.done)
	defer w.releaseAll()
	for {
		select {
		case <-w.stop:
			return
		case <-w.nudge:
			w.pass()
		}
	}
}

// pass releases what it held and acquires 30 random keys, keeping a third.
func (w *worker) pass() {
	w.releaseAll()
	for range 30 {
		k := w.ks[w.rng.IntN(len(w.ks))]
		if _, dup := w.held[k]; dup {
			continue
		}
		release, ok := w.m.shards.Acquire(k)
		if !ok {
			continue
		}
		w.h.take(k, w.m.id)
		if w.rng.IntN(3) == 0 {
			w.held[k] = release
			continue
		}
		w.h.drop(k, w.m.id)
		release()
	}
}

func (w *worker) releaseAll() {
	for k, release := range w.held {
		w.h.drop(k, w.m.id)
		release()
		delete(w.held, k)
	}
}

func (w *worker) poke() {
	select {
	case w.nudge <- struct{}{}:
	default:
	}
}

func (w *worker) halt() { close(w.stop); <-w.done }

// TestShardsChurnNeverTwoOwners: members join, leave cleanly and die while
// workers acquire and hold keys; no key is ever held by two members.
func TestShardsChurnNeverTwoOwners(t *testing.T) {
	e := newShardsEnv(t)
	h := newHolders(t)
	ks := keys(300)
	var mu sync.Mutex
	workers := map[string]*worker{}
	pokeAll := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range workers {
			w.poke()
		}
	}
	join := func(id string) {
		m := e.start(id)
		mu.Lock()
		workers[id] = startWorker(m, h, ks, uint64(len(workers)+1))
		mu.Unlock()
	}
	halt := func(id string) {
		mu.Lock()
		w := workers[id]
		delete(workers, id)
		mu.Unlock()
		w.halt()
	}
	ticks := func(n int) {
		for range n {
			e.clock.Step(2 * time.Second)
			e.quiesce(pokeAll)
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		join(id)
	}
	ticks(3)
	join("d")
	ticks(3)
	halt("a")
	e.stop("a")
	ticks(3)
	halt("b")
	e.kill("b")
	join("e")
	ticks(10) // b's Lease expires
	join("f")
	halt("c")
	e.stop("c")
	ticks(4)
	halt("d")
	e.kill("d")
	ticks(10)
	for _, id := range []string{"e", "f"} {
		halt(id)
	}
	if h.errs.Load() > 0 {
		t.Fatalf("%d keys granted twice at once", h.errs.Load())
	}
	e.eventually("every key with exactly one of e, f", 3, func() error {
		_, err := exactlyOne(ks, []*shardMember{e.member("e"), e.member("f")})
		return err
	})
}

// TestShardsSteadyAcrossRenewals: renewals that change nothing neither
// interrupt grants nor signal Changes (the agent would requeue its
// applications at every renewal).
func TestShardsSteadyAcrossRenewals(t *testing.T) {
	e := newShardsEnv(t)
	a, b := e.start("a"), e.start("b")
	ks := keys(300)
	e.eventually("keys spread", 3, func() error { _, err := exactlyOne(ks, []*shardMember{a, b}); return err })
	var mine string
	for _, k := range ks {
		if owner(k, []string{"a", "b"}) == "a" {
			mine = k
			break
		}
	}
	e.tick() // a settled state, then only renewals
	drain(a.shards.Changes())
	stop, refused := make(chan struct{}), make(chan int)
	go func() {
		n := 0
		defer func() { refused <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if release, ok := a.shards.Acquire(mine); ok {
				release()
			} else {
				n++
			}
		}
	}()
	for range 5 {
		e.tick()
	}
	close(stop)
	if n := <-refused; n > 0 {
		t.Errorf("a refused its key %s %d times across renewals", mine, n)
	}
	select {
	case <-a.shards.Changes():
		t.Error("Changes signalled on renewals that changed nothing")
	default:
	}
}
