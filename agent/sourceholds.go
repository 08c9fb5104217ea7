package agent

import (
	"sync"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

// sourceHolds are the pauses of whole sources as this agent last read
// them from the journal, to see which ones another agent changed.
type sourceHolds struct {
	mu   sync.Mutex
	seen map[string]string // source → its pause, "" for none
}

// changed records source's pause as now read and reports whether it
// differs from the one read before.
func (s *sourceHolds) changed(source, pause string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]string{}
	}
	old := s.seen[source]
	s.seen[source] = pause
	return old != pause
}

// followSourceHolds acts at once on the pauses and resumes of whole
// sources that other agents journal (the agent owning OwnerSource
// journals them, with sharding), when the journal reports other writers'
// changes (the journal in the cluster): without it, an agent would see
// such a pause only at each application's next reconcile, and a resume
// only at the paused recheck.
func (a *Agent) followSourceHolds() {
	a.opts.Journal.OnChange(func(part string) {
		if part == reconcile.PartSources {
			a.sourceHoldsChanged()
		}
	})
}

// sourceHoldsChanged queues the applications of each source whose pause
// was journaled or lifted since last read: those this agent owns are
// held before their next step (or go on) at once, the others are dropped
// when acquired. The journal's copy is read, never the API server.
func (a *Agent) sourceHoldsChanged() {
	for _, src := range a.config().Sources {
		h, err := a.opts.Journal.Hold(reconcile.PauseKey(reconcile.AppID{Source: src.Name}))
		pause := "unreadable"
		switch {
		case err == nil && h == nil:
			pause = ""
		case err == nil:
			pause = h.By + "@" + h.At.UTC().Format(time.RFC3339Nano)
		}
		if !a.sourceHolds.changed(src.Name, pause) {
			continue
		}
		keys := a.keysOfSource(src.Name)
		a.log.Info("the pause of a whole source changed in the journal; reconciling its applications at once",
			"source", src.Name, "paused", pause != "", "applications", len(keys))
		a.queueAll(keys)
	}
}
