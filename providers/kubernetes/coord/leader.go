package coord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// ErrLost is wrapped by Leader.Run's error when the lease it held was lost:
// the process should exit and come back as a standby.
var ErrLost = errors.New("coord: leader lease lost")

// Leader is one candidate of a leader election on the Lease <name>-leader
// (client-go's leaderelection). The leader owns every key. Every candidate
// also keeps its member Lease, so that the others know its URL.
type Leader struct {
	cfg     Config
	client  kubernetes.Interface
	members *memberSet
	changes chan struct{}
	lost    chan struct{}
	elector *leaderelection.LeaderElector

	mu      sync.Mutex
	leading bool
	closing bool      // Run's ctx is done: losing the lease now is no loss
	renewed time.Time // when the last successful renewal was sent
	grants  grantSet
}

// NewLeader returns a candidate for cfg's installation. It does nothing
// until Run. A configuration error makes Run fail.
func NewLeader(client kubernetes.Interface, cfg Config) *Leader {
	l := &Leader{client: client, changes: make(chan struct{}, 1), lost: make(chan struct{})}
	l.grants = newGrantSet(&l.mu)
	l.cfg, _ = cfg.withDefaults()
	l.members = newMemberSet(client, l.cfg, func() {})
	return l
}

// Run campaigns for the lease and renews it while leading, and renews this
// candidate's member Lease, until ctx is done: it then stops granting,
// waits up to RenewDeadline for granted keys to be released, releases the
// lease (ReleaseOnCancel, unless keys are still granted) and returns nil.
// When the lease held is lost (not renewed within RenewDeadline), Lost is
// closed and Run returns an error wrapping ErrLost.
func (l *Leader) Run(ctx context.Context) error {
	if _, err := l.cfg.withDefaults(); err != nil {
		return err
	}
	elector, err := l.newElector()
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.elector = elector
	l.mu.Unlock()
	memberCtx, stopMembers := context.WithCancel(context.WithoutCancel(ctx))
	membersDone := make(chan struct{})
	go func() { defer close(membersDone); l.keepMember(memberCtx) }()
	defer func() { stopMembers(); <-membersDone }()
	electCtx, stopElection := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElection()
	elected := make(chan struct{})
	go func() { defer close(elected); elector.Run(electCtx) }()
	select {
	case <-elected:
		return fmt.Errorf("%w: %s did not renew %s/%s within %s", ErrLost, l.cfg.Identity, l.cfg.Namespace, leaderLeaseName(l.cfg.Name), l.cfg.RenewDeadline)
	case <-ctx.Done():
	}
	l.drain()
	stopElection()
	<-elected
	return nil
}

// newElector builds client-go's elector over a lock that records renewals.
func (l *Leader) newElector() (*leaderelection.LeaderElector, error) {
	lock := &trackedLock{Interface: &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: l.cfg.Namespace, Name: leaderLeaseName(l.cfg.Name)},
		Client:     l.client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: l.cfg.Identity},
	}, leader: l}
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            leaderLeaseName(l.cfg.Name),
		LeaseDuration:   l.cfg.LeaseDuration,
		RenewDeadline:   l.cfg.RenewDeadline,
		RetryPeriod:     l.cfg.RetryPeriod,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { l.setLeading(true) },
			OnStoppedLeading: func() { l.setLeading(false) },
		},
	})
	if err != nil {
		return nil, fmt.Errorf("coord: leader election on %s/%s: %w", l.cfg.Namespace, leaderLeaseName(l.cfg.Name), err)
	}
	return elector, nil
}

// keepMember renews the member Lease every RetryPeriod until ctx is done,
// then deletes it.
func (l *Leader) keepMember(ctx context.Context) {
	defer l.members.stop()
	if err := l.members.start(ctx); err != nil {
		return
	}
	ticks, stop := ticker(l.cfg)
	defer stop()
	for {
		now := l.cfg.Clock.Now()
		if _, err := l.members.write(ctx, now, nil, false); err != nil {
			if ctx.Err() == nil {
				l.cfg.Logger.Warn("coord: member Lease not renewed", "identity", l.cfg.Identity, "error", err)
			}
		} else {
			l.members.collect(ctx, now)
		}
		select {
		case <-ctx.Done():
			rmCtx, cancel := context.WithTimeout(context.Background(), l.cfg.RenewDeadline)
			defer cancel()
			if err := l.members.remove(rmCtx); err != nil {
				l.cfg.Logger.Warn("coord: member Lease not deleted", "identity", l.cfg.Identity, "error", err)
			}
			return
		case <-ticks:
		}
	}
}

// setLeading records a transition; losing a lease held without stopping
// closes Lost.
func (l *Leader) setLeading(leading bool) {
	l.mu.Lock()
	was := l.leading
	l.leading = leading
	lost := was && !leading && !l.closing
	l.mu.Unlock()
	if was != leading {
		l.cfg.Logger.Info("coord: leadership changed", "identity", l.cfg.Identity, "leading", leading)
		l.signal()
	}
	if lost {
		close(l.lost)
	}
}

// drain stops granting and waits up to RenewDeadline for granted keys.
func (l *Leader) drain() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	if !l.grants.drain(l.cfg.Clock, l.cfg.RenewDeadline, l.signal) {
		l.cfg.Logger.Warn("coord: keys still granted at exit; leader lease left to expire", "identity", l.cfg.Identity)
	}
}

// Acquire grants key while this candidate leads and renewed the lease
// within RenewDeadline. The leader owns every key.
func (l *Leader) Acquire(key string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leading || l.grants.stopping || l.cfg.Clock.Since(l.renewed) >= l.cfg.RenewDeadline {
		return nil, false
	}
	return l.grants.add(key), true
}

// Changes receives a value after this candidate gains or loses the lease.
func (l *Leader) Changes() <-chan struct{} { return l.changes }

// Lost is closed when a lease this candidate held was lost (not on Run's
// clean exit).
func (l *Leader) Lost() <-chan struct{} { return l.lost }

func (l *Leader) signal() {
	select {
	case l.changes <- struct{}{}:
	default:
	}
}

// Owner returns the identity holding the leader lease as last observed
// (every key is the leader's), or "" when none is known.
func (l *Leader) Owner(string) string {
	l.mu.Lock()
	elector := l.elector
	l.mu.Unlock()
	if elector == nil {
		return ""
	}
	return elector.GetLeader()
}

// Members returns every candidate's member Lease, sorted by identity.
func (l *Leader) Members() []Member { return l.members.members(l.cfg.Clock.Now()) }

// trackedLock records when a renewal of the lease by this candidate was
// sent, and refuses to release the lease while keys are still granted.
type trackedLock struct {
	resourcelock.Interface
	leader *Leader
}

// Create records the first acquisition's send time on success.
func (t *trackedLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	sent := t.leader.cfg.Clock.Now()
	err := t.Interface.Create(ctx, r)
	t.leader.renewedAt(r, sent, err)
	return err
}

// Update records a renewal's send time on success; a release (no holder)
// is refused while keys are granted, leaving the lease to expire.
func (t *trackedLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	if r.HolderIdentity == "" && !t.leader.releasable() {
		return errors.New("coord: leader lease not released: keys are still granted; it expires by itself")
	}
	sent := t.leader.cfg.Clock.Now()
	err := t.Interface.Update(ctx, r)
	t.leader.renewedAt(r, sent, err)
	return err
}

func (l *Leader) renewedAt(r resourcelock.LeaderElectionRecord, sent time.Time, err error) {
	if err != nil || r.HolderIdentity != l.cfg.Identity {
		return
	}
	l.mu.Lock()
	l.renewed = sent
	l.mu.Unlock()
}

// releasable stops granting for good and reports whether no key is granted.
func (l *Leader) releasable() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.grants.stopping = true
	return l.grants.empty()
}
