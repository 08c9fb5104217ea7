package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/aws/artifacts"
	"github.com/jibe-dev/jibe/sources/bump"
	"github.com/jibe-dev/jibe/spec"
)

// Proposer turns the artifact updates found for a source into a proposal
// in Git: a branch and pull request, or a commit, per the source's
// artifactUpdates (sources/bump).
type Proposer interface {
	// Propose proposes changes, all of one source. It is called again
	// with the source's changes whenever they differ from the last ones
	// proposed, or after it failed.
	Propose(ctx context.Context, source string, changes []bump.Change) error
}

// artifactWatch is the agent's side of the artifact watch: the specs it
// reads the policies from, and what was last proposed.
type artifactWatch struct {
	reader *artifacts.Watcher
	// now wakes the loop for a pass at once (the webhook's fast path).
	now chan struct{}

	mu sync.Mutex
	// specs are the applications' specs as the watch loaded them, by
	// application key, with the commit they were loaded at.
	specs map[string]watchedSpec
	// proposed is a digest of the changes last proposed, by source.
	proposed map[string]string
	// reported are the problems already logged, so that each is logged
	// once until it changes.
	reported map[string]bool
	// failed is the error of each source's last proposal that failed,
	// logged once until it changes or a proposal succeeds.
	failed map[string]string
}

type watchedSpec struct {
	commit string
	app    *spec.Application
}

func newArtifactWatch(opts Options) *artifactWatch {
	r := opts.Artifacts
	if r == nil {
		r = artifacts.New(artifacts.Options{Clock: opts.Clock, Logger: opts.Logger})
	}
	return &artifactWatch{reader: r, now: make(chan struct{}, 1), specs: map[string]watchedSpec{},
		proposed: map[string]string{}, reported: map[string]bool{}, failed: map[string]string{}}
}

// ArtifactPass reads what the update policies of every application need
// (from the shared reads while they are younger than their source's
// interval) and returns the changes to propose, by source, and the
// artifacts it could not follow. Applications whose spec does not load
// are left out: their reconcile reports why.
func (a *Agent) ArtifactPass(ctx context.Context) artifacts.Result {
	return a.watch.reader.Pass(ctx, a.config(), a.watchedApps())
}

// watchedApps returns the applications of sources with artifactUpdates,
// their specs loaded once per commit.
func (a *Agent) watchedApps() []artifacts.App {
	cfg := a.config()
	type item struct {
		key, source, folder, commit string
		st                          *appState
	}
	var items []item
	a.mu.Lock()
	for key, st := range a.apps {
		src := cfg.Source(st.source)
		if st.revision == nil || st.dup != nil || src == nil || src.ArtifactUpdates == nil {
			continue
		}
		items = append(items, item{key: key, source: st.source, folder: st.folder, commit: st.revision.Commit, st: st})
	}
	a.mu.Unlock()
	sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
	limits := cfg.Limits.Spec()
	var out []artifacts.App
	for _, it := range items {
		app := a.watch.specOf(it.key, it.commit, func() (*spec.Application, error) {
			a.mu.Lock()
			rev := it.st.revision
			a.mu.Unlock()
			loaded, err := spec.LoadFS(rev.Files, rev.App, spec.WithLimits(limits), spec.WithPlatforms(a.opts.Capabilities...))
			if err != nil {
				return nil, err
			}
			return &loaded.Application, nil
		})
		if app != nil {
			out = append(out, artifacts.App{Source: it.source, Folder: it.folder, Spec: app})
		}
	}
	return out
}

// specOf returns the application's spec at commit, loaded once.
func (w *artifactWatch) specOf(key, commit string, load func() (*spec.Application, error)) *spec.Application {
	w.mu.Lock()
	s, ok := w.specs[key]
	w.mu.Unlock()
	if ok && s.commit == commit {
		return s.app
	}
	app, err := load()
	if err != nil {
		app = nil
	}
	w.mu.Lock()
	w.specs[key] = watchedSpec{commit: commit, app: app}
	w.mu.Unlock()
	return app
}

// ArtifactPushed is the webhook's fast path (POST /hooks/artifact): the
// next pass reads the ECR repository ref names (an image reference, or a
// repository name for every registry) again, and runs at once. The
// pushed tag is not trusted: the pass reads the registry and applies
// each artifact's policy. It reports whether a pass has read that
// repository for an application; false, with nothing done, when the
// watch is off. It does not block.
func (a *Agent) ArtifactPushed(ref string) bool {
	if a.opts.Proposer == nil {
		return false
	}
	n := a.watch.reader.Invalidate(ref)
	select {
	case a.watch.now <- struct{}{}:
	default:
	}
	return n > 0
}

// watchArtifacts runs a pass every minute (each source's reads are
// repeated only once its interval has passed) and whenever the webhook
// asks, and hands each source's changes to the Proposer when they differ
// from the last ones it took. It returns when ctx is done; it does
// nothing without a Proposer, and passes only while this agent owns
// OwnerSource.
func (a *Agent) watchArtifacts(ctx context.Context) {
	if a.opts.Proposer == nil {
		return
	}
	t := a.opts.Clock.NewTicker(config.MinArtifactInterval)
	defer t.Stop()
	for {
		a.asSourceOwner(func() { a.artifactRound(ctx) })
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-a.watch.now:
		}
	}
}

// artifactRound runs one pass, reports its problems and proposes what
// changed.
func (a *Agent) artifactRound(ctx context.Context) {
	res := a.ArtifactPass(ctx)
	a.reportArtifactProblems(res.Problems)
	for _, src := range slices.Sorted(maps.Keys(res.Changes)) {
		changes := res.Changes[src]
		digest := changesDigest(changes)
		a.watch.mu.Lock()
		same := a.watch.proposed[src] == digest
		a.watch.mu.Unlock()
		if same {
			continue
		}
		if err := a.opts.Proposer.Propose(ctx, src, changes); err != nil {
			a.reportProposeError(src, len(changes), err)
			continue
		}
		a.log.Info("artifact updates proposed", "source", src, "changes", len(changes))
		a.watch.mu.Lock()
		a.watch.proposed[src] = digest
		delete(a.watch.failed, src)
		a.watch.mu.Unlock()
	}
}

// reportProposeError logs a source's failed proposal: a warning the first
// time, and again only when the error changes; a debug line otherwise.
func (a *Agent) reportProposeError(src string, changes int, err error) {
	msg := err.Error()
	a.watch.mu.Lock()
	same := a.watch.failed[src] == msg
	a.watch.failed[src] = msg
	a.watch.mu.Unlock()
	if same {
		a.log.Debug("artifact updates still not proposed", "source", src, "changes", changes, "err", err)
		return
	}
	a.log.Warn("artifact updates not proposed; retrying at every pass (logged again if the error changes)", "source", src, "changes", changes, "err", err,
		"fix", "the source's git credentials must be allowed to push, and the github settings to write pull requests (docs/artifact-watch.md)")
}

// reportArtifactProblems logs each problem once, while it lasts: a
// warning naming the source, application and artifact, and what to do.
func (a *Agent) reportArtifactProblems(problems []artifacts.Problem) {
	seen := map[string]bool{}
	for _, p := range problems {
		msg := p.Error()
		seen[msg] = true
		a.watch.mu.Lock()
		old := a.watch.reported[msg]
		a.watch.mu.Unlock()
		if !old {
			a.log.Warn("artifact not followed", "source", p.Source, "app", p.App, "artifact", p.Artifact, "err", p.Err)
		}
	}
	a.watch.mu.Lock()
	a.watch.reported = seen
	a.watch.mu.Unlock()
}

// changesDigest identifies a list of changes.
func changesDigest(changes []bump.Change) string {
	b, _ := json.Marshal(changes)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
