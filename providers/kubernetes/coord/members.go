package coord

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// memberLease is what one member Lease says.
type memberLease struct {
	identity, url   string
	renew           time.Time
	duration        time.Duration
	view            []string // sorted; nil when none is published
	hasView         bool
	resourceVersion string
}

// live reports whether the Lease was renewed within its own duration at now.
func (m memberLease) live(now time.Time) bool { return now.Before(m.renew.Add(m.duration)) }

// owns reports whether the member's published view gives it key.
func (m memberLease) owns(key string) bool {
	return m.hasView && owner(key, m.view) == m.identity
}

// parseLease reads a member Lease; ok is false for a Lease that is not one.
func parseLease(l *coordinationv1.Lease) (memberLease, bool) {
	s := l.Spec
	if s.HolderIdentity == nil || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return memberLease{}, false
	}
	m := memberLease{
		identity:        *s.HolderIdentity,
		url:             l.Annotations[AnnotationURL],
		renew:           s.RenewTime.Time,
		duration:        time.Duration(*s.LeaseDurationSeconds) * time.Second,
		resourceVersion: l.ResourceVersion,
	}
	if v, ok := l.Annotations[AnnotationView]; ok {
		m.view, m.hasView = parseView(v), true
	}
	return m, true
}

func parseView(v string) []string {
	if v == "" {
		return []string{}
	}
	view := strings.Split(v, ",")
	slices.Sort(view)
	return view
}

// memberSet keeps this replica's member Lease and watches every member's
// through an informer: reads never reach the API server.
type memberSet struct {
	cfg      Config
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
	lease    *coordinationv1.Lease // the last one written; the renewing goroutine's only
	// collected holds the versions of stale Leases deleted (renewing goroutine).
	collected map[string]bool
}

// newMemberSet builds the informer of the members' Leases; onChange runs on
// each of their events.
func newMemberSet(client kubernetes.Interface, cfg Config, onChange func()) *memberSet {
	selector := labels.Set{LabelMembers: cfg.Name}.String()
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithNamespace(cfg.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))
	informer := factory.Coordination().V1().Leases().Informer()
	notify := func(any) { onChange() }
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: notify, DeleteFunc: notify,
		UpdateFunc: func(any, any) { onChange() },
	})
	return &memberSet{cfg: cfg, client: client, factory: factory, informer: informer, collected: map[string]bool{}}
}

// start runs the informer until ctx is done and waits for its first list.
func (s *memberSet) start(ctx context.Context) error {
	s.factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), s.informer.HasSynced) {
		return fmt.Errorf("coord: the member Leases in namespace %s were not listed before shutdown: %w", s.cfg.Namespace, ctx.Err())
	}
	return nil
}

// stop waits for the informer's goroutines once start's ctx is done.
func (s *memberSet) stop() { s.factory.Shutdown() }

// snapshot returns every member Lease the informer holds, at one point of
// its event stream (the store is listed under one lock), sorted by identity.
func (s *memberSet) snapshot() []memberLease {
	var out []memberLease
	for _, obj := range s.informer.GetStore().List() {
		if l, ok := obj.(*coordinationv1.Lease); ok {
			if m, ok := parseLease(l); ok {
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b memberLease) int { return strings.Compare(a.identity, b.identity) })
	return out
}

// confirmLive reads m's Lease from the API server and reports whether it is
// live at now after all. A failed read keeps m live: dropping a member
// needs proof.
func (s *memberSet) confirmLive(ctx context.Context, m memberLease, now time.Time) bool {
	l, err := s.client.CoordinationV1().Leases(s.cfg.Namespace).Get(ctx, memberLeaseName(s.cfg.Name, m.identity), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		return true
	}
	fresh, ok := parseLease(l)
	return ok && fresh.live(now)
}

// members returns the snapshot as Members, liveness judged at now.
func (s *memberSet) members(now time.Time) []Member {
	snap := s.snapshot()
	out := make([]Member, 0, len(snap))
	for _, m := range snap {
		out = append(out, Member{Identity: m.identity, URL: m.url, Live: m.live(now)})
	}
	return out
}

// write creates or renews this replica's Lease, renewed at sent, with view
// published (when hasView). It returns the written resourceVersion. One
// request when the last write is current; a conflict costs a Get.
func (s *memberSet) write(ctx context.Context, sent time.Time, view []string, hasView bool) (string, error) {
	if s.lease == nil {
		return s.create(ctx, sent, view, hasView)
	}
	next := s.lease.DeepCopy()
	s.fill(next, sent, view, hasView)
	l, err := s.client.CoordinationV1().Leases(s.cfg.Namespace).Update(ctx, next, metav1.UpdateOptions{})
	switch {
	case apierrors.IsNotFound(err):
		s.lease = nil
		return s.create(ctx, sent, view, hasView)
	case apierrors.IsConflict(err):
		if err := s.refresh(ctx); err != nil {
			return "", err
		}
		return s.write(ctx, sent, view, hasView)
	case err != nil:
		return "", fmt.Errorf("coord: renew member Lease %s/%s: %w", s.cfg.Namespace, s.name(), err)
	}
	s.lease = l
	return l.ResourceVersion, nil
}

// create creates the Lease, or takes over the one a former run left.
func (s *memberSet) create(ctx context.Context, sent time.Time, view []string, hasView bool) (string, error) {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
		Name: s.name(), Namespace: s.cfg.Namespace, Labels: map[string]string{LabelMembers: s.cfg.Name},
	}}
	s.fill(l, sent, view, hasView)
	l.Spec.AcquireTime = l.Spec.RenewTime
	created, err := s.client.CoordinationV1().Leases(s.cfg.Namespace).Create(ctx, l, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		if err := s.refresh(ctx); err != nil {
			return "", err
		}
		return s.write(ctx, sent, view, hasView)
	}
	if err != nil {
		return "", fmt.Errorf("coord: create member Lease %s/%s: %w", s.cfg.Namespace, s.name(), err)
	}
	s.lease = created
	return created.ResourceVersion, nil
}

// refresh reads the Lease after a conflict.
func (s *memberSet) refresh(ctx context.Context) error {
	l, err := s.client.CoordinationV1().Leases(s.cfg.Namespace).Get(ctx, s.name(), metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("coord: read member Lease %s/%s: %w", s.cfg.Namespace, s.name(), err)
	}
	s.lease = l
	return nil
}

// fill sets the renewal, duration, URL and view on l.
func (s *memberSet) fill(l *coordinationv1.Lease, sent time.Time, view []string, hasView bool) {
	l.Spec.HolderIdentity = ptr.To(s.cfg.Identity)
	l.Spec.LeaseDurationSeconds = ptr.To(int32(s.cfg.LeaseDuration / time.Second))
	l.Spec.RenewTime = &metav1.MicroTime{Time: sent}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	if l.Labels == nil {
		l.Labels = map[string]string{}
	}
	l.Labels[LabelMembers] = s.cfg.Name
	l.Annotations[AnnotationURL] = s.cfg.URL
	delete(l.Annotations, AnnotationView)
	if hasView {
		l.Annotations[AnnotationView] = strings.Join(view, ",")
	}
}

// staleAfter is how many of its durations a member Lease stays expired
// before a live member deletes it: pods of a Deployment come and go under
// new names, and their Leases would pile up.
const staleAfter = 10

// collect deletes the member Leases expired for staleAfter of their
// durations, each version once, on condition that it is still that
// version. A member that was only cut off creates its Lease again.
func (s *memberSet) collect(ctx context.Context, now time.Time) {
	for _, m := range s.snapshot() {
		if m.identity == s.cfg.Identity || now.Before(m.renew.Add(staleAfter*m.duration)) || s.collected[m.resourceVersion] {
			continue
		}
		s.collected[m.resourceVersion] = true
		err := s.client.CoordinationV1().Leases(s.cfg.Namespace).Delete(ctx, memberLeaseName(s.cfg.Name, m.identity),
			metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &m.resourceVersion}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			s.cfg.Logger.Warn("coord: stale member Lease not deleted", "member", m.identity, "error", err)
		}
	}
}

// remove deletes this replica's Lease (a clean exit), if it wrote one.
func (s *memberSet) remove(ctx context.Context) error {
	if s.lease == nil {
		return nil
	}
	err := s.client.CoordinationV1().Leases(s.cfg.Namespace).Delete(ctx, s.name(),
		metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &s.lease.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("coord: delete member Lease %s/%s (it expires by itself): %w", s.cfg.Namespace, s.name(), err)
	}
	return nil
}

func (s *memberSet) name() string { return memberLeaseName(s.cfg.Name, s.cfg.Identity) }

// ticker returns a channel receiving every period of c, and its stop.
func ticker(c Config) (<-chan time.Time, func()) {
	if tc, ok := c.Clock.(clock.WithTicker); ok {
		t := tc.NewTicker(c.RetryPeriod)
		return t.C(), t.Stop
	}
	return c.Clock.Tick(c.RetryPeriod), func() {}
}
