// Package agent runs Jibe: it takes revisions from the sources, reconciles
// each application through the engine, environment by environment, and
// reports the outcome as engine events (reconcile.Event), the one stream
// that commit statuses, notifications, metrics, the API and logs subscribe
// to.
//
// Work is keyed by application: a work queue de-duplicates keys, so a burst
// of commits reconciles an application once, at its latest revision, and
// never twice at the same time. Waiting (pauses, health, approvals) is not
// done by a goroutine: the engine journals the rollout and the key comes
// back to the queue when it is due.
package agent

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/backoff"
	"github.com/jibe-dev/jibe/providers/aws/artifacts"
	"github.com/jibe-dev/jibe/providers/github"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec"
)

// Source produces updates until its context is done: sources.Git and
// sources.Dir.
type Source interface {
	Run(ctx context.Context, out chan<- sources.Update) error
}

// RevisionFinder reads an application folder at an older commit, to
// restore the last good revision after a restart: sources.Git.
type RevisionFinder interface {
	Revision(source, app, commit string) (*sources.Revision, error)
}

// Options configures an Agent. Config and Journal are required.
type Options struct {
	Config  *config.Config
	Journal *reconcile.Journal
	// Platforms deploy targets, by platform.
	Platforms map[spec.Platform]reconcile.Platform
	// Capabilities declare what each platform this agent deploys to
	// supports (ecs.Capabilities...): specs are loaded with them, so that
	// validation refuses what no platform can deploy and planning asks
	// them. cmd/jibe wires the built-in list.
	Capabilities spec.Platforms
	// ManifestCheck, when set, checks every environment's Kubernetes
	// objects when a revision loads (cmd/jibe passes kubecheck.Check), so
	// that objects the cluster would refuse stall the revision before its
	// rollout starts.
	ManifestCheck spec.ManifestCheck
	// Checks measures verify steps.
	Checks reconcile.Checker
	// Approvals opens approval gates from pull-request reviews on the
	// application's repository. Gate, when set, replaces it.
	Approvals Approver
	Gate      reconcile.Gate
	// PullRequests and Fetcher make plan previews on open pull requests;
	// without both, there are none.
	PullRequests PullRequestHost
	Fetcher      PullRequestFetcher
	// Sources produce revisions.
	Sources []Source
	// Refresher polls a Git source now, for the refresh action
	// (sources.Git); optional.
	Refresher Refresher
	// History finds older revisions that are no longer in memory; optional.
	History RevisionFinder
	// Applications lists what each source held when the agent stopped, so
	// that MigrateJournal can assign rollouts journaled before application
	// identity to their source; optional.
	Applications AppLister
	// Proposer receives the artifact updates the watch finds, per source
	// (sources[].artifactUpdates); nil turns the artifact watch off.
	Proposer Proposer
	// Artifacts reads what the watch follows (ECR repositories, S3
	// object versions, AMI series), sharing each read between the
	// applications that use it. Default artifacts.New with the accounts'
	// SDK clients.
	Artifacts *artifacts.Watcher
	// Ownership says which applications this agent acts on when several
	// share a journal in a cluster; default: all of them.
	Ownership Ownership
	// Peers, with an Ownership shared with other agents, forward actions
	// to the owner of what they act on, ask owners for what only they
	// know live of their applications (peerviews.go, peerevents.go) and
	// relay webhook deliveries to the other agents; optional.
	Peers Peers
	// WebhookSecret is the secret webhook deliveries are signed with
	// (server.webhookSecret), which the agents sharing a journal share:
	// with Peers, it authenticates the marker of the deliveries they relay
	// to each other (RelaySignatureHeader). Without it, a relayed delivery
	// counts as a first one and is relayed again (the others refuse it as
	// a replay).
	WebhookSecret config.Secret
	// Synced, when set, says whether what the agent shares with other
	// agents has synced (the journal's and the coordinator's caches), and
	// why not: the agent is not ready before (see Ready).
	Synced func() (bool, string)
	// Clock drives the work queue's delays and the engine. Default the
	// wall clock.
	Clock clock.WithTicker
	// Logger receives the agent's logs. Default slog.Default().
	Logger *slog.Logger
}

// Agent reconciles applications from their sources.
type Agent struct {
	opts     Options
	log      *slog.Logger
	queue    workqueue.TypedRateLimitingInterface[string]
	executor *reconcile.Executor
	cfg      atomic.Pointer[config.Config]
	// events reach the reporters that subscribe (see Subscribe).
	events reconcile.Stream

	mu   sync.Mutex
	apps map[string]*appState // by key: source/folder
	// byID finds an application's state from engine events and gates, by
	// its identity: source and name.
	byID map[reconcile.AppID]*appState
	// envs are each application's environments, in order, by identity.
	envs map[reconcile.AppID][]string
	// drift is what differs from Git, by source/app/env, as last observed.
	drift map[string][]string
	// pulls are the open pull requests, by queue key.
	pulls map[string]*pullState
	// waiting says what each waiting rollout waits for, by rollout ID.
	waiting map[string]string
	// held says why each environment held by a pause, a freeze window or
	// a rollback does not roll out, by driftKey.
	held map[string]string
	// health is each target's health as last observed, by
	// source/app/env/target (see observing).
	health map[string]observedHealth
	// approvals say how each rollout's approval step ended, e.g. who
	// approved, by rollout ID, as events told (see noteApproval).
	approvals map[string]string
	// rollouts caches the journal's record of each environment for the
	// views.
	rollouts rolloutCache
	// feed fans the live stream (GET /api/v1/events) out.
	feed feed
	// sourceMarks are each source's state and commit as last published
	// to the live stream.
	sourceMarks map[string]string
	// access is who may use the API, from the configuration in force.
	access atomic.Pointer[access]
	// encodeMu guards the JSON of cached views.
	encodeMu sync.Mutex
	// departed are the applications that left Git while they run, by
	// identity (see prune.go); gone keeps the state of removed folders,
	// whose recent revisions a deletion renders again.
	departed map[reconcile.AppID]*departure
	gone     map[reconcile.AppID]*appState

	metrics *metrics
	// wakes re-queue waits on platforms that report changes.
	wakes wakeups
	// logged is the reason of each waiting rollout's last logged wait, by
	// rollout ID: a wait is logged at info when its reason changes.
	logMu  sync.Mutex
	logged map[string]string
	// watch is the artifact watch (artifactwatch.go).
	watch *artifactWatch
	// claims are the applications this agent claimed in the journal
	// (owners.go); ownedSource says whether it owned OwnerSource at the
	// last change of its ownership.
	claims      claims
	ownedSource atomic.Bool
	// sourceHolds are the pauses of whole sources last read after the
	// journal reported a change (sourceholds.go).
	sourceHolds sourceHolds
	// peers are the other agents that failed to answer a read lately
	// (peerviews.go).
	peers peerHealth
}

// appState is what the agent knows of one application.
type appState struct {
	key, source, folder string
	// revision is the latest revision of the application's folder.
	revision *sources.Revision
	// history keeps recent revisions by commit, oldest first in order, so
	// that a rollback can restore the last revision that succeeded.
	history map[string]*sources.Revision
	order   []string
	// name is the application's name once its spec has loaded.
	name string
	// spec is the name its jibe.yaml gives, read at each update to find
	// names used twice in the source; dup is set while another folder of
	// the source gives the same name.
	spec specName
	dup  *duplicate
	// owner and repo name the source's GitHub repository, where its
	// statuses go (see warnSharedContext); empty for none.
	owner, repo string
	// lastError is the last reconcile error, for the API.
	lastError string
	// warned is the commit whose spec warnings were logged.
	warned string
	// loaded is the revision as last loaded, kept for requeues.
	loaded *loadedRevision
	// artifacts are the artifacts of each revision loaded, by commit;
	// targets the latest loaded revision's targets, by environment. For
	// the views.
	artifacts map[string][]ArtifactView
	targets   map[string][]targetRef
	// gen counts the changes to what the application's view shows; view
	// is the view as last built (see touch).
	gen  uint64
	view *cachedView
}

// New returns an agent; Run starts it.
func New(opts Options) *Agent {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Ownership == nil {
		opts.Ownership = soleOwner{}
	}
	a := &Agent{opts: opts, log: opts.Logger, apps: map[string]*appState{}, byID: map[reconcile.AppID]*appState{},
		envs: map[reconcile.AppID][]string{}, drift: map[string][]string{}, pulls: map[string]*pullState{}, waiting: map[string]string{}, held: map[string]string{}, logged: map[string]string{},
		health: map[string]observedHealth{}, approvals: map[string]string{}, sourceMarks: map[string]string{}, metrics: newMetrics(),
		departed: map[reconcile.AppID]*departure{}, gone: map[reconcile.AppID]*appState{}}
	a.watch = newArtifactWatch(opts)
	a.cfg.Store(opts.Config)
	a.access.Store(newAccess(opts.Config.Server))
	a.queue = newQueue(opts.Clock, a.metrics.queue, backoff.NewPerItem[string](reconcile.RetryBackoff), a.wakes.take)
	a.metrics.registry.MustRegister(appInfo{a}, readyGauge(a))
	a.executor = &reconcile.Executor{Journal: opts.Journal, Platforms: a.observing(opts.Platforms), Checks: opts.Checks,
		Gate: opts.Gate, Clock: opts.Clock, Emit: a.events.Emit, Hold: a.heldRollout}
	if opts.Gate == nil && opts.Approvals != nil {
		a.executor.Gate = reviewGate{a}
	}
	a.subscribeOwn()
	a.watchPlatforms()
	a.watchSources()
	a.followSourceHolds()
	return a
}

// Run runs the sources and the workers until ctx is done, then lets the
// workers finish the step they are in (each step's outcome is journaled)
// and returns. It resumes the rollouts the journal holds as running.
func (a *Agent) Run(ctx context.Context) error {
	updates := make(chan sources.Update, 16)
	var wg sync.WaitGroup
	for _, s := range a.opts.Sources {
		wg.Go(func() {
			if err := s.Run(ctx, updates); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("a source stopped", "err", err)
			}
		})
	}
	for range a.config().Reconcile.MaxConcurrentRollouts {
		wg.Go(func() {
			for a.processNext(ctx) {
			}
		})
	}
	wg.Go(func() {
		a.asSourceOwner(func() { a.pollPulls(ctx) })
		a.resyncEvery(ctx)
	})
	wg.Go(func() { a.watchArtifacts(ctx) })
	wg.Go(func() { a.followOwnership(ctx) })
	a.receive(ctx, updates)
	a.queue.ShutDownWithDrain()
	wg.Wait()
	return nil
}

// receive hands updates to the queue until ctx is done.
func (a *Agent) receive(ctx context.Context, updates <-chan sources.Update) {
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-updates:
			a.Handle(u)
		}
	}
}

// Handle records the revisions of an update and queues the applications
// it changed. Exported for tests and for sources wired by hand.
func (a *Agent) Handle(u sources.Update) {
	log := a.log.With("source", u.Source, "commit", reconcile.ShortRevision(u.Commit.SHA), "transition", u.Transition.String())
	if u.Transition == sources.TransitionBranchDeleted {
		log.Warn("the branch was deleted; applications keep running their last revision")
		return
	}
	if u.Transition == sources.TransitionRewritten || u.Transition == sources.TransitionUnverified {
		log.Warn("the branch was rewritten (force push); reconciling the new commit as it is")
	}
	for _, au := range u.Apps {
		if au.Revision == nil {
			log.Info("an application folder was removed", "folder", au.App)
			a.forget(u.Source + "/" + au.App)
			continue
		}
		key := a.remember(u, au)
		if au.Change.Triggers() {
			a.queue.Add(key)
		}
	}
	// Folders whose name became, or stopped being, used twice in the
	// source are reconciled again, changed or not.
	for _, key := range a.checkNames(u) {
		a.queue.Add(key)
	}
	a.checkDeparted(u, log)
}

// remember stores the latest revision of an application.
func (a *Agent) remember(u sources.Update, au sources.AppUpdate) string {
	key := u.Source + "/" + au.App
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.apps[key]
	if st == nil {
		st = &appState{key: key, source: u.Source, folder: au.App}
		st.owner, st.repo = github.Repository(a.config().Source(u.Source))
		a.apps[key] = st
	}
	st.revision = au.Revision
	st.keep(au.Revision)
	st.touch()
	return key
}

// maxHistory bounds the revisions kept per application.
const maxHistory = 20

// keep adds rev to the application's history, forgetting the oldest.
func (st *appState) keep(rev *sources.Revision) {
	if st.history == nil {
		st.history = map[string]*sources.Revision{}
	}
	if _, ok := st.history[rev.Commit]; ok {
		return
	}
	st.history[rev.Commit] = rev
	st.order = append(st.order, rev.Commit)
	if len(st.order) > maxHistory {
		delete(st.history, st.order[0])
		st.order = st.order[1:]
	}
}

// resyncEvery queues every application each drift interval, so that live
// state is compared with Git even when Git does not change, and lists the
// open pull requests for previews.
func (a *Agent) resyncEvery(ctx context.Context) {
	t := a.opts.Clock.NewTicker(a.config().Reconcile.DriftInterval.Duration)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			a.resync()
			a.asSourceOwner(func() { a.pollPulls(ctx) })
		}
	}
}

// resync queues every known application, whose environments that run
// their revision are then compared with live state, however recently
// they were, and every application that left Git and still runs: at
// each drift interval and when the configuration is reloaded.
func (a *Agent) resync() {
	a.mu.Lock()
	a.driftDueAll()
	keys := make([]string, 0, len(a.apps)+len(a.departed))
	for k := range a.apps {
		keys = append(keys, k)
	}
	for id := range a.departed { // a deletion refused or stalled is tried again
		keys = append(keys, deleteKey(id))
	}
	a.mu.Unlock()
	for _, k := range keys {
		a.queue.Add(k)
	}
}

// config returns the configuration in force.
func (a *Agent) config() *config.Config { return a.cfg.Load() }

// Config returns the configuration in force: the one New was given, or
// the last SetConfig put in force.
func (a *Agent) Config() *config.Config { return a.config() }

// SetConfig puts a new configuration in force for what the agent reads on
// every reconcile: tenancy, accounts and regions, status contexts and
// links. Sources, clusters and credentials are built at start and change
// only with a restart. Applications are reconciled again under the new
// rules.
func (a *Agent) SetConfig(c *config.Config) {
	a.cfg.Store(c)
	a.access.Store(newAccess(c.Server))
	a.resync()
}

func (a *Agent) state(key string) *appState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.apps[key]
}

// processNext reconciles one queued application and requeues it as its
// outcome's retry policy says. It returns false once the queue is shut down.
func (a *Agent) processNext(ctx context.Context) bool {
	key, shutdown := a.queue.Get()
	if shutdown {
		return false
	}
	defer a.queue.Done(key)
	var err error
	switch {
	case strings.HasPrefix(key, pullPrefix):
		err = a.asKeyOwner(key, func() error { return a.preview(ctx, key) })
	case strings.HasPrefix(key, deletePrefix):
		err = a.asOwner(deletedID(key), func() error { return a.prune(ctx, key) })
	default:
		a.wakes.begin(key)
		err = a.reconcile(ctx, key)
		if a.wakes.end(key, err) && err != errNotOwned {
			defer a.queue.Add(key) // a change came meanwhile: again once done
		}
	}
	if errors.Is(err, errNotOwned) {
		a.queue.Forget(key) // queued again when this agent's ownership changes
		return true
	}
	a.setError(key, err)
	a.reconciled(key)
	source, app, folder := a.describeKey(key)
	a.metrics.reconciles.WithLabelValues(source, app, outcome(err)).Inc()
	var waiting *reconcile.WaitingError
	switch reconcile.PolicyOf(err) {
	case reconcile.PolicyNone:
		a.queue.Forget(key)
	case reconcile.PolicyStall:
		a.queue.Forget(key)
		a.log.Error("reconcile stalled until the spec or the configuration changes", "source", source, "app", app, "folder", folder, "err", err)
	case reconcile.PolicyRequeue:
		errors.As(err, &waiting)
		a.queue.Forget(key)
		a.queue.AddAfter(key, waiting.RequeueAfter)
	default:
		a.log.Warn("reconcile failed; retrying with backoff", "source", source, "app", app, "folder", folder, "err", err)
		a.queue.AddRateLimited(key)
	}
	return true
}

// describeKey returns the source, application name and folder of a queue
// key, for logs and metrics; a pull request preview's key has a source
// only.
func (a *Agent) describeKey(key string) (source, app, folder string) {
	if rest, ok := strings.CutPrefix(key, pullPrefix); ok {
		source, _, _ = strings.Cut(rest, "#")
		return source, "", ""
	}
	if rest, ok := strings.CutPrefix(key, deletePrefix); ok {
		source, app, _ = strings.Cut(rest, "/")
		return source, app, ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if st := a.apps[key]; st != nil {
		return st.source, st.id().Name, st.folder
	}
	source, folder, _ = strings.Cut(key, "/")
	return source, appName(folder), folder
}

func (a *Agent) setError(key string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st := a.apps[key]; st != nil {
		st.lastError = ""
		if err != nil && reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
			st.lastError = err.Error()
		}
	}
}
