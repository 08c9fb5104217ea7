package kubejournal

import (
	"fmt"
	"sync"
	"testing"

	"github.com/jibe-dev/jibe/internal/testenv/agentproc"
	"github.com/jibe-dev/jibe/reconcile"
)

// A store reports each change another store makes to a part, as its
// watch delivers it: the change is readable from its copy by then.
func TestOtherWritersChangesAreReported(t *testing.T) {
	e := newEnv(t)
	a, b := e.open("agent-a", nil, Options{}), e.open("agent-b", nil, Options{})
	var mu sync.Mutex
	var seen []string // part=the record as b read it when told
	b.OnPartChange(func(part string) {
		var v []byte
		_ = b.View(func(tx reconcile.Tx) error { v = tx.Get("holds", "pause/shop"); return nil })
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, part+"="+string(v))
	})
	reported := func(want string) {
		t.Helper()
		agentproc.Poll(t, testTimeout, "b reports "+want, func() (bool, string) {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) > 0 && seen[len(seen)-1] == want, fmt.Sprintf("reported %q", seen)
		})
	}
	if err := put(a, reconcile.PartSources, "holds", "pause/shop", "paused"); err != nil {
		t.Fatal(err)
	}
	reported(reconcile.PartSources + "=paused")
	if err := a.Update(reconcile.PartSources, func(tx reconcile.Tx) error { return tx.Delete("holds", "pause/shop") }); err != nil {
		t.Fatal(err)
	}
	reported(reconcile.PartSources + "=")
}
