package agent

import (
	"context"
	"errors"
	"sync"

	"github.com/jibe-dev/jibe/reconcile"
)

// How the agent applies its Ownership (ownership.go). Every queue item
// acquires what it acts on before acting: an application's identity for
// its reconcile (once its spec has loaded, before any platform call or
// journal write) and its deletion, a pull request's key for its preview,
// OwnerSource for the artifact watch and the open pull request lists.
// An item another agent owns is dropped quietly: Changes queues every
// application again when what this agent owns changes.
//
// The first time it acts on an application after gaining it, the agent
// claims the application's journal records (Journal.Claim), after which
// the former owner's writes of them fail with reconcile.ErrFenced, and
// reads them afresh: a rollout resumes from the step its former owner
// last journaled. An agent whose write is fenced stops acting on the
// application (no failure is reported and nothing is rolled back: the new
// owner carries on) until its ownership changes again.

// errNotOwned ends the work of a queue item this agent does not own (or
// was fenced from): the item is dropped, neither counted nor retried.
var errNotOwned = errors.New("another agent owns this application")

// claims are the applications whose journal records this agent has
// claimed since it gained them, and those it was fenced from.
type claims struct {
	mu      sync.Mutex
	claimed map[reconcile.AppID]bool
	fenced  map[reconcile.AppID]bool
}

// sole reports whether this agent is alone (the default Ownership): it
// owns every application, and the journal changes only by its own writes.
func (a *Agent) sole() bool {
	_, ok := a.opts.Ownership.(soleOwner)
	return ok
}

// own acquires application id for one piece of work, claiming its
// journal records the first time after this agent gained it. It returns
// errNotOwned when another agent owns id, or when this agent was fenced
// from it since its ownership last changed; the caller then drops the
// work. release must be called once the work has returned (a step
// boundary).
func (a *Agent) own(id reconcile.AppID) (release func(), err error) {
	release, ok := a.opts.Ownership.Acquire(id.String())
	if !ok {
		a.disown(id)
		return nil, errNotOwned
	}
	if err := a.claim(id); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// claim makes this agent the journal's writer of id's records, once
// after it gained id, and forgets what it cached of them.
func (a *Agent) claim(id reconcile.AppID) error {
	c := &a.claims
	c.mu.Lock()
	fenced, claimed := c.fenced[id], c.claimed[id]
	c.mu.Unlock()
	switch {
	case fenced:
		return errNotOwned
	case claimed:
		return nil
	}
	if err := a.opts.Journal.Claim(id); err != nil {
		return err
	}
	c.mu.Lock()
	if c.claimed == nil {
		c.claimed = map[reconcile.AppID]bool{}
	}
	c.claimed[id] = true
	c.mu.Unlock()
	if !a.sole() {
		a.log.Info("acting on an application this agent gained", "source", id.Source, "app", id.Name)
	}
	a.rollouts.forgetApp(id)
	return nil
}

// disown forgets the claim of id, which another agent owns now.
func (a *Agent) disown(id reconcile.AppID) {
	c := &a.claims
	c.mu.Lock()
	was := c.claimed[id]
	delete(c.claimed, id)
	c.mu.Unlock()
	if was {
		a.log.Info("an application is owned by another agent now", "source", id.Source, "app", id.Name)
		a.rollouts.forgetApp(id)
		a.touchID(id)
	}
}

// fencedFrom turns a journal write refused as fenced into errNotOwned:
// another agent has claimed id's records, so this one stops acting on
// id, logging it once, until its ownership changes again. Other errors
// are returned as they are.
func (a *Agent) fencedFrom(id reconcile.AppID, err error) error {
	if !errors.Is(err, reconcile.ErrFenced) {
		return err
	}
	c := &a.claims
	c.mu.Lock()
	first := !c.fenced[id]
	if c.fenced == nil {
		c.fenced = map[reconcile.AppID]bool{}
	}
	c.fenced[id] = true
	delete(c.claimed, id)
	c.mu.Unlock()
	if first {
		a.log.Warn("another agent has taken over an application; this agent stops acting on it", "source", id.Source, "app", id.Name, "err", err)
	}
	a.rollouts.forgetApp(id)
	a.touchID(id)
	return errNotOwned
}

// trusted reports whether what this agent cached of id's journal records
// is current: it is alone, or it claimed id and so is its only writer.
// Another owner's records are read afresh from the journal (whose store
// follows every writer) at each view.
func (a *Agent) trusted(id reconcile.AppID) bool {
	if a.sole() {
		return true
	}
	c := &a.claims
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.claimed[id]
}

// ownershipChanged forgets the claims and lifts the fences, and queues
// every known application and departed one, so that those gained start:
// Acquire skips the others. Each application is claimed again before
// its owner acts on it next, whatever happened in between (it may have
// changed owner twice since the last change seen).
func (a *Agent) ownershipChanged() {
	a.claims.mu.Lock()
	clear(a.claims.fenced)
	clear(a.claims.claimed)
	a.claims.mu.Unlock()
	a.rollouts.forgetAll()
	a.mu.Lock()
	keys := make([]string, 0, len(a.apps)+len(a.departed)+len(a.pulls))
	for k := range a.apps {
		keys = append(keys, k)
	}
	for id := range a.departed {
		keys = append(keys, deleteKey(id))
	}
	for k := range a.pulls {
		keys = append(keys, k)
	}
	a.mu.Unlock()
	for _, k := range keys {
		a.queue.Add(k)
	}
}

// followOwnership queues what this agent may have gained at each change
// of its ownership, and lists the open pull requests when it gains
// OwnerSource, until ctx is done.
func (a *Agent) followOwnership(ctx context.Context) {
	changes := a.opts.Ownership.Changes()
	if changes == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
			a.ownershipChanged()
			if a.gainedSource() {
				a.asSourceOwner(func() { a.pollPulls(ctx) })
			}
		}
	}
}

// gainedSource reports whether this agent owns OwnerSource now and did
// not at the previous change.
func (a *Agent) gainedSource() bool {
	release, ok := a.opts.Ownership.Acquire(OwnerSource)
	if ok {
		release()
	}
	return !a.ownedSource.Swap(ok) && ok
}

// asSourceOwner runs fn when this agent owns OwnerSource (the work of no
// application: the artifact watch, the open pull request lists), holding
// it meanwhile, and reports whether it did.
func (a *Agent) asSourceOwner(fn func()) bool {
	release, ok := a.opts.Ownership.Acquire(OwnerSource)
	if !ok {
		return false
	}
	defer release()
	fn()
	return true
}

// asKeyOwner runs fn, the work of a queue item of no application (a pull
// request's preview), when this agent owns key, holding it meanwhile;
// it returns errNotOwned otherwise.
func (a *Agent) asKeyOwner(key string, fn func() error) error {
	release, ok := a.opts.Ownership.Acquire(key)
	if !ok {
		return errNotOwned
	}
	defer release()
	return fn()
}

// OwnedApplications counts the applications this agent knows that it
// owns now, as its Peers say (every one without Peers), for the
// jibe_ha_owned_applications metric.
func (a *Agent) OwnedApplications() int {
	a.mu.Lock()
	ids := make([]reconcile.AppID, 0, len(a.apps))
	for _, st := range a.apps {
		ids = append(ids, st.id())
	}
	a.mu.Unlock()
	n := 0
	for _, id := range ids {
		if a.owns(id) {
			n++
		}
	}
	return n
}
