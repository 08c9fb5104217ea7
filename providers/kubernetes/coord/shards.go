package coord

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/client-go/kubernetes"
)

// Shards spreads keys over the live members by rendezvous hashing; see the
// package documentation for why no key ever has two owners.
type Shards struct {
	cfg     Config
	members *memberSet
	changes chan struct{}

	mu        sync.Mutex
	started   bool
	renewed   time.Time // when the last successful write was sent
	written   []string  // resourceVersions of the last writes of the published view
	inflight  time.Time // the renewal being written in the same epoch, if any
	published []string  // the view it carried; nil before the first
	pending   []string  // the view of a write in flight, if it changes it
	grants    grantSet
	expired   map[string]string // identity → resourceVersion confirmed expired
	state     string            // what Acquire depends on, to signal Changes
}

// NewShards returns the sharding of cfg's installation for this replica.
// It does nothing until Run. A configuration error makes Run fail.
func NewShards(client kubernetes.Interface, cfg Config) *Shards {
	s := &Shards{changes: make(chan struct{}, 1), expired: map[string]string{}}
	s.grants = newGrantSet(&s.mu)
	s.cfg, _ = cfg.withDefaults()
	s.members = newMemberSet(client, s.cfg, s.evaluate)
	return s
}

// Run creates and renews this member's Lease once per RetryPeriod,
// publishing the member set it has settled on, until ctx is done. On exit
// it stops granting, waits up to RenewDeadline for the keys it granted to
// be released, then deletes its Lease (left to expire when some are not).
func (s *Shards) Run(ctx context.Context) error {
	if _, err := s.cfg.withDefaults(); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer s.members.stop()
	defer cancel()
	if err := s.members.start(runCtx); err != nil {
		return err
	}
	ticks, stop := ticker(s.cfg)
	defer stop()
	for {
		s.renew(ctx)
		select {
		case <-ctx.Done():
			s.leave()
			return nil
		case <-ticks:
		}
	}
}

// renew writes this member's Lease with the view it may now publish.
func (s *Shards) renew(ctx context.Context) {
	sent := s.cfg.Clock.Now()
	view := s.nextView(ctx, sent)
	s.mu.Lock()
	if sameView(view, s.published) && sent.Sub(s.renewed) < s.cfg.RenewDeadline {
		s.inflight = sent
	}
	s.mu.Unlock()
	rv, err := s.members.write(ctx, sent, view, true)
	s.mu.Lock()
	s.pending, s.inflight = nil, time.Time{}
	if err == nil {
		s.wrote(rv, view, sent)
		s.renewed, s.published, s.started = sent, view, true
	}
	s.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		s.cfg.Logger.Warn("coord: member Lease not renewed", "identity", s.cfg.Identity, "error", err)
	}
	if err == nil {
		s.members.collect(ctx, sent)
	}
	s.evaluate()
}

// nextView returns the live members at now, this one included, when every
// key granted and not released stays with this member under them; else the
// view published so far. A changed view is pending until written.
func (s *Shards) nextView(ctx context.Context, now time.Time) []string {
	live := s.liveMembers(ctx, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.published != nil && !s.settled(live) {
		return s.published
	}
	if !sameView(live, s.published) {
		s.pending = live
	}
	return live
}

// liveMembers returns the sorted identities of the members live at now, this
// one included. A member the informer shows expired is read again from the
// API server (one GET per version of its Lease) and counts as expired only
// once that read confirms it, so that a lagging informer never drops a
// member that still renews.
func (s *Shards) liveMembers(ctx context.Context, now time.Time) []string {
	snap := s.members.snapshot()
	s.forgetGone(snap)
	live := []string{s.cfg.Identity}
	for _, m := range snap {
		if m.identity == s.cfg.Identity {
			continue
		}
		if m.live(now) || !s.confirmExpired(ctx, m, now) {
			live = append(live, m.identity)
		}
	}
	slices.Sort(live)
	return live
}

// forgetGone drops the confirmed expiries of Leases no longer listed.
func (s *Shards) forgetGone(snap []memberLease) {
	listed := map[string]bool{}
	for _, m := range snap {
		listed[m.identity] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.expired {
		if !listed[id] {
			delete(s.expired, id)
		}
	}
}

// confirmExpired reports whether m's Lease, as the API server holds it,
// is expired at now, remembering the answer for m's version.
func (s *Shards) confirmExpired(ctx context.Context, m memberLease, now time.Time) bool {
	s.mu.Lock()
	known := s.expired[m.identity] == m.resourceVersion
	s.mu.Unlock()
	if known {
		return true
	}
	if s.members.confirmLive(ctx, m, now) {
		return false
	}
	s.mu.Lock()
	s.expired[m.identity] = m.resourceVersion
	s.mu.Unlock()
	return true
}

// settled reports whether view keeps every granted key with this member.
func (s *Shards) settled(view []string) bool {
	for key := range s.grants.keys {
		if owner(key, view) != s.cfg.Identity {
			return false
		}
	}
	return true
}

// Acquire grants key when this member may act on it now: its Lease was
// renewed within RenewDeadline and its informer shows that renewal, the
// view it published (and the one it is writing) gives it key, and every
// other member not confirmed expired published a view that does not give
// them key. The key
// stays granted until release is called (release is idempotent).
func (s *Shards) Acquire(key string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mayAcquire(key, s.cfg.Clock.Now()) {
		return nil, false
	}
	return s.grants.add(key), true
}

// mayAcquire applies Acquire's rules; s.mu is held.
func (s *Shards) mayAcquire(key string, now time.Time) bool {
	if !s.current(now) || owner(key, s.published) != s.cfg.Identity {
		return false
	}
	if s.pending != nil && owner(key, s.pending) != s.cfg.Identity {
		return false
	}
	for _, m := range s.members.snapshot() {
		counts := m.live(now) || s.expired[m.identity] != m.resourceVersion
		if m.identity != s.cfg.Identity && counts && m.owns(key) {
			return false
		}
	}
	return true
}

// current reports whether this member may grant at all: not stopping,
// renewed within RenewDeadline, and its informer holds one of its writes
// of the view it publishes made since it last changed that view or resumed
// renewing after RenewDeadline (so the informer also holds every Lease
// written before the first of them). s.mu is held.
func (s *Shards) current(now time.Time) bool {
	if !s.started || s.grants.stopping || now.Sub(s.renewed) >= s.cfg.RenewDeadline {
		return false
	}
	obj, ok, _ := s.members.informer.GetStore().GetByKey(s.cfg.Namespace + "/" + s.members.name())
	if !ok {
		return false
	}
	l, ok := obj.(*coordinationv1.Lease)
	return ok && (slices.Contains(s.written, l.ResourceVersion) || s.isInflight(l))
}

// isInflight reports whether l is the write in flight of the current
// epoch, which the informer may show before the write returns. s.mu is
// held.
func (s *Shards) isInflight(l *coordinationv1.Lease) bool {
	m, ok := parseLease(l)
	return ok && !s.inflight.IsZero() && m.identity == s.cfg.Identity &&
		m.renew.Equal(s.inflight.Truncate(time.Microsecond)) && sameView(m.view, s.published)
}

// keptWrites bounds the writes of one view that current recognises: an
// informer that lags further only delays grants.
const keptWrites = 8

// wrote records a successful write of view sent at sent; s.mu is held. A
// new view, or a renewal after RenewDeadline without one, starts afresh:
// the informer must then hold this write before the member grants again.
func (s *Shards) wrote(rv string, view []string, sent time.Time) {
	if !sameView(view, s.published) || sent.Sub(s.renewed) >= s.cfg.RenewDeadline {
		s.written = s.written[:0]
	}
	if len(s.written) == keptWrites {
		s.written = slices.Delete(s.written, 0, 1)
	}
	s.written = append(s.written, rv)
}

// leave stops granting, waits for the granted keys, and deletes the Lease.
func (s *Shards) leave() {
	if !s.grants.drain(s.cfg.Clock, s.cfg.RenewDeadline, s.signal) {
		s.cfg.Logger.Warn("coord: keys still granted at exit; member Lease left to expire", "identity", s.cfg.Identity)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RenewDeadline)
	defer cancel()
	if err := s.members.remove(ctx); err != nil {
		s.cfg.Logger.Warn("coord: member Lease not deleted", "identity", s.cfg.Identity, "error", err)
	}
}

// Changes receives a value after each change of what this member may
// acquire: members joining, leaving or expiring, views published, this
// member's own renewals lapsing or resuming.
func (s *Shards) Changes() <-chan struct{} { return s.changes }

// evaluate signals Changes when what Acquire depends on changed.
func (s *Shards) evaluate() {
	now := s.cfg.Clock.Now()
	snap := s.members.snapshot()
	var b strings.Builder
	s.mu.Lock()
	for _, m := range snap {
		counts := m.live(now) || s.expired[m.identity] != m.resourceVersion
		fmt.Fprintf(&b, "%s=%t:%t:%s;", m.identity, counts, m.hasView, strings.Join(m.view, ","))
	}
	fmt.Fprintf(&b, "|%t|%s|%s", s.current(now), strings.Join(s.published, ","), strings.Join(s.pending, ","))
	changed := b.String() != s.state
	s.state = b.String()
	s.mu.Unlock()
	if changed {
		s.signal()
	}
}

func (s *Shards) signal() {
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

// Owner returns the identity that owns key among the members live now (this
// one included), whether or not it has settled yet.
func (s *Shards) Owner(key string) string {
	now := s.cfg.Clock.Now()
	live := []string{s.cfg.Identity}
	for _, m := range s.members.snapshot() {
		if m.identity != s.cfg.Identity && m.live(now) {
			live = append(live, m.identity)
		}
	}
	return owner(key, live)
}

// Members returns every member Lease in the namespace, sorted by identity.
func (s *Shards) Members() []Member { return s.members.members(s.cfg.Clock.Now()) }
