package bump

import (
	"context"
	"fmt"

	"github.com/jibe-dev/jibe/reconcile"
)

// BySource is the agent's proposer of artifact updates (agent.Proposer):
// the Proposer of each source with artifactUpdates, by source name.
// `jibe agent` builds one at start.
type BySource map[string]*Proposer

// Propose hands a source's changes to its Proposer. Calls must not
// overlap (the agent's artifact watch makes them one at a time).
func (b BySource) Propose(ctx context.Context, source string, changes []Change) error {
	p := b[source]
	if p == nil {
		return reconcile.Stalled(fmt.Errorf("source %q had no artifactUpdates when the agent started: restart the agent to propose its artifact updates", source))
	}
	return p.Propose(ctx, changes)
}
