package coord

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// grantSet counts the keys granted and not yet released, for a Leader or
// a Shards, and drains them on exit: once stopped it grants nothing, and
// drain waits for the last release. It shares its owner's mutex: add, stop
// and the fields are used with mu held; release and drain take it.
type grantSet struct {
	mu       *sync.Mutex
	keys     map[string]int
	stopping bool
	idle     chan struct{} // closed when keys empties while stopping
}

func newGrantSet(mu *sync.Mutex) grantSet {
	return grantSet{mu: mu, keys: map[string]int{}}
}

// add grants key once more and returns its idempotent release; mu is held.
func (g *grantSet) add(key string) (release func()) {
	g.keys[key]++
	var once sync.Once
	return func() { once.Do(func() { g.release(key) }) }
}

func (g *grantSet) release(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.keys[key]--; g.keys[key] <= 0 {
		delete(g.keys, key)
	}
	if g.stopping && len(g.keys) == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// empty reports whether no key is granted; mu is held.
func (g *grantSet) empty() bool { return len(g.keys) == 0 }

// stop grants nothing more and returns a channel closed once no key is
// granted; mu is held.
func (g *grantSet) stop() <-chan struct{} {
	g.stopping = true
	idle := make(chan struct{})
	if len(g.keys) == 0 {
		close(idle)
	} else {
		g.idle = idle
	}
	return idle
}

// drain stops granting, calls signal (Changes: what may be acquired
// changed), and waits up to deadline on clk for every granted key to be
// released. It reports whether they all were.
func (g *grantSet) drain(clk clock.Clock, deadline time.Duration, signal func()) bool {
	g.mu.Lock()
	idle := g.stop()
	g.mu.Unlock()
	signal()
	select {
	case <-idle:
		return true
	case <-clk.After(deadline):
		return false
	}
}
