package agent

// Ownership says which applications this agent acts on when several
// agents share a journal in a cluster (state.kubernetes): one leader
// with hot standbys, or shards spread by consistent hashing. The default,
// one agent with its embedded journal, owns everything.
//
// Keys are what the agent acts on: an application's identity
// (reconcile.AppID.String(), for its rollouts, drift and deletion), a
// pull request's queue key, and OwnerSource for work of no application
// (the artifact watch).
type Ownership interface {
	// Acquire reports whether this agent owns key now. When it does, key
	// stays with this agent until release is called: the agent calls it
	// once the work it started (one reconcile, up to the next step
	// boundary) has returned, so that an application changes owner only
	// between steps and never has two owners at once.
	Acquire(key string) (release func(), ok bool)
	// Changes receives a value after each change of what this agent
	// owns: the agent then queues what it gained.
	Changes() <-chan struct{}
}

// OwnerSource is the Ownership key of the work no application owns
// (the artifact watch, the open pull request lists): one agent does it.
const OwnerSource = "jibe:agent"

// soleOwner is the Ownership of an agent alone: it owns every key.
type soleOwner struct{}

func (soleOwner) Acquire(string) (func(), bool) { return func() {}, true }
func (soleOwner) Changes() <-chan struct{}      { return nil }
