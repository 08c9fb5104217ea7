// Package kubejournal keeps Jibe's rollout journal (reconcile.Store) as
// ConfigMaps in one namespace, so that several agents share it and a
// former writer cannot write (state.kubernetes; docs/journal.md).
//
// Each part (an application's records; reconcile.PartActions,
// PartSources) is one ConfigMap, <name>-journal-<source>-<app>-<hash8>,
// with a data key per record (bucket.key, e.g. rollouts.production.abc1234)
// and labels jibe.dev/journal, jibe.dev/source and jibe.dev/app. An
// update of a part is one write of its object, conditional on the
// resourceVersion the store last saw. Records that never change again
// (reconcile.Settled) move to objects of their own, written once, when
// the part nears Options.PartBudget. Reads are served from an informer's
// copy: no request to the API server.
//
// Fencing: Claim records this store's identity as the part's writer
// (annotation jibe.dev/writer). An update that conflicts is read again;
// if another identity has claimed the part since, it fails with
// reconcile.ErrFenced and commits nothing, else it is run again on the
// fresh records. The shared parts (PartActions, PartSources) are not
// fenced: any agent writes them.
//
// The store needs get, list, watch, create, update and delete on
// configmaps in its namespace, and nothing else.
package kubejournal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/reconcile"
)

// Options configures a Store.
type Options struct {
	// Identity is this agent's identity, recorded as the writer of the
	// parts it claims (e.g. the pod's name). Required.
	Identity string
	// Clock dates claims; default the wall clock.
	Clock clock.PassiveClock
	// PartBudget is the size (data keys and values, in bytes) above which
	// a part's settled records move to objects of their own; default
	// 256 KiB.
	PartBudget int
	// RequestTimeout bounds each request to the API server; default 30s.
	RequestTimeout time.Duration
	// Logger logs what the store does on its own; default slog.Default().
	Logger *slog.Logger
}

// maxObject is the most data an object holds: Kubernetes refuses a
// ConfigMap of more than 1 MiB; room is left for its metadata.
const maxObject = 1<<20 - 32<<10

// maxAttempts bounds the runs of an update or claim that conflicts.
const maxAttempts = 8

// Store is a reconcile.Store and reconcile.Claimer over ConfigMaps. It is
// safe for concurrent use.
type Store struct {
	client    kubernetes.Interface
	namespace string
	name      string
	opts      Options
	stop      chan struct{}
	closeOnce sync.Once

	mu    sync.RWMutex
	parts map[string]*partState
	ix    index

	lockMu sync.Mutex
	locks  map[string]*sync.Mutex // per part: one update at a time

	listenMu  sync.Mutex
	listeners []func(part string) // see OnPartChange
}

var (
	_ reconcile.Store    = (*Store)(nil)
	_ reconcile.Claimer  = (*Store)(nil)
	_ reconcile.Notifier = (*Store)(nil)
)

// Open starts watching journal name's objects in namespace and returns
// once its copy of them is complete, or ctx is done.
func Open(ctx context.Context, client kubernetes.Interface, namespace, name string, opts Options) (*Store, error) {
	if err := validate(namespace, name, opts); err != nil {
		return nil, err
	}
	s := newStore(client, namespace, name, opts)
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = LabelJournal + "=" + name }))
	inf := factory.Core().V1().ConfigMaps().Informer()
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.observeEvent,
		UpdateFunc: func(_, o any) { s.observeEvent(o) },
		DeleteFunc: s.forgetEvent,
	})
	if err != nil {
		return nil, fmt.Errorf("watching the journal %s/%s: %w", namespace, name, err)
	}
	factory.Start(s.stop)
	if !cache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		s.Close()
		return nil, fmt.Errorf("reading the journal %s/%s (configmaps labelled %s=%s): %w; check the agent may list and watch configmaps there",
			namespace, name, LabelJournal, name, context.Cause(ctx))
	}
	return s, nil
}

func validate(namespace, name string, opts Options) error {
	if opts.Identity == "" {
		return errors.New("kubejournal: Options.Identity is required (the agent's identity, e.g. its pod name)")
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("kubejournal: journal name %q: %v", name, errs)
	}
	if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
		return fmt.Errorf("kubejournal: namespace %q: %v", namespace, errs)
	}
	return nil
}

func newStore(client kubernetes.Interface, namespace, name string, opts Options) *Store {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.PartBudget <= 0 {
		opts.PartBudget = 256 << 10
	}
	opts.PartBudget = min(opts.PartBudget, maxObject/2)
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Store{client: client, namespace: namespace, name: name, opts: opts, stop: make(chan struct{}),
		parts: map[string]*partState{}, ix: index{}, locks: map[string]*sync.Mutex{}}
}

// Close stops watching the journal's objects.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	return nil
}

// View runs fn on the store's copy of every part; it sends no request.
func (s *Store) View(fn func(reconcile.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(&tx{ix: s.ix})
}

// Update runs fn on part's records and writes the part's object with what
// it changed, conditional on the resourceVersion last seen. See the
// package's doc for conflicts and fencing.
func (s *Store) Update(part string, fn func(reconcile.Tx) error) error {
	unlock := s.lockPart(part)
	defer unlock()
	for attempt := 1; ; attempt++ {
		base, t, err := s.run(part, fn)
		if err != nil || len(t.writes) == 0 {
			return err
		}
		err = s.commit(base, t)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("writing journal part %s: still conflicting after %d attempts: %w", part, attempt, err)
		}
		if err := s.refetch(part); err != nil {
			return err
		}
	}
}

// run runs fn in a transaction on the current copy, refusing a part that
// another identity has claimed.
func (s *Store) run(part string, fn func(reconcile.Tx) error) (*partState, *tx, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	base := s.parts[part]
	if err := s.fenced(part, base); err != nil {
		return nil, nil, err
	}
	t := &tx{ix: s.ix, part: part, writable: true}
	return base, t, fn(t)
}

// fenced returns ErrFenced when another identity has claimed part.
func (s *Store) fenced(part string, p *partState) error {
	if w := p.writer(); w != "" && w != s.opts.Identity && !shared(part) {
		return fmt.Errorf("journal part %s is claimed by %s, not %s: %w", part, w, s.opts.Identity, reconcile.ErrFenced)
	}
	return nil
}

// retryable reports a write that lost a race: the object changed, was
// created or was deleted since the store last saw it.
func retryable(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err)
}

// refetch reads part's object from the API server into the copy, and
// fails with ErrFenced if another identity has claimed it.
func (s *Store) refetch(part string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	cm, err := s.client.CoreV1().ConfigMaps(s.namespace).Get(ctx, objectName(s.name, part), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		s.forgetMain(part)
	case err != nil:
		return fmt.Errorf("reading journal part %s: %w", part, err)
	default:
		s.observe(cm)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.fenced(part, s.parts[part])
}

// Claim makes this store's identity the writer of part: one conditional
// write of its object (created if missing), retried on conflict. It
// returns once the store's copy holds the claimed object. Shared parts
// need no claim.
func (s *Store) Claim(part string) error {
	if shared(part) {
		return nil
	}
	unlock := s.lockPart(part)
	defer unlock()
	for attempt := 1; ; attempt++ {
		s.mu.RLock()
		base := s.parts[part]
		s.mu.RUnlock()
		cm := s.object(part, base)
		cm.Annotations[AnnotationWriter] = s.opts.Identity
		cm.Annotations[AnnotationClaimed] = s.opts.Clock.Now().UTC().Format(time.RFC3339Nano)
		err := s.write(cm)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			if err != nil {
				return fmt.Errorf("claiming journal part %s for %s: %w", part, s.opts.Identity, err)
			}
			return nil
		}
		if err := s.refetch(part); err != nil && !errors.Is(err, reconcile.ErrFenced) {
			return err
		}
	}
}

// object returns a copy of part's object to write: base's, or a new one.
func (s *Store) object(part string, base *partState) *corev1.ConfigMap {
	if base != nil && base.main != nil {
		cm := base.main.DeepCopy()
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		return cm
	}
	labels, annotations := partMeta(s.name, part)
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: objectName(s.name, part), Namespace: s.namespace,
		Labels: labels, Annotations: annotations}}
}

// write creates cm (no resourceVersion) or updates it conditionally, and
// records the result in the copy.
func (s *Store) write(cm *corev1.ConfigMap) error {
	ctx, cancel := s.ctx()
	defer cancel()
	api := s.client.CoreV1().ConfigMaps(s.namespace)
	var out *corev1.ConfigMap
	var err error
	if cm.ResourceVersion == "" {
		out, err = api.Create(ctx, cm, metav1.CreateOptions{})
	} else {
		out, err = api.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		return err
	}
	s.observe(out)
	return nil
}

func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.opts.RequestTimeout)
}

func (s *Store) lockPart(part string) func() {
	s.lockMu.Lock()
	l := s.locks[part]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[part] = l
	}
	s.lockMu.Unlock()
	l.Lock()
	return l.Unlock
}
