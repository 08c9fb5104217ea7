package reconcile_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

// The journal knows, across a restart, which applications of a source ran,
// where their folder was, and which environments still run what: a
// deletion takes an environment out of Deployed and forgets its stable
// revision, and a later rollout brings it back.
func TestJournalDeletionRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j := openJournal(t, path)
	for _, env := range []string{"staging", "production"} {
		p := canaryPlan()
		p.Name = env
		r, err := j.Start(checkout, "abc123", p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Finish(r.ID, reconcile.RolloutSucceeded, ""); err != nil {
			t.Fatal(err)
		}
	}
	// A failed later rollout: production still runs abc123.
	p := canaryPlan()
	r, err := j.Start(checkout, "def456", p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Finish(r.ID, reconcile.RolloutRolledBack, "check failed"); err != nil {
		t.Fatal(err)
	}
	if err := j.SetFolder(checkout, "apps/checkout"); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Start(reconcile.AppID{Source: "other", Name: "web"}, "abc123", canaryPlan()); err != nil {
		t.Fatal(err)
	}
	j.Close()

	j = openJournal(t, path)
	defer j.Close()
	apps, err := j.Applications("shop")
	if err != nil || len(apps) != 1 || apps[0] != checkout {
		t.Fatalf("Applications(shop) = %v, %v; want [%v]", apps, err, checkout)
	}
	rec, err := j.App(checkout)
	if err != nil || rec.Folder != "apps/checkout" {
		t.Fatalf("App = %+v, %v; want folder apps/checkout", rec, err)
	}
	dep, err := j.Deployed(checkout)
	if err != nil || len(dep) != 2 || dep[0].Env != "production" || dep[0].Revision != "abc123" || dep[1].Env != "staging" {
		t.Fatalf("Deployed = %+v, %v; want production and staging at abc123", dep, err)
	}
	if err := j.RecordDeletion(checkout, "production", "fff000"); err != nil {
		t.Fatal(err)
	}
	dep, _ = j.Deployed(checkout)
	if len(dep) != 1 || dep[0].Env != "staging" {
		t.Fatalf("Deployed after deleting production = %+v; want staging only", dep)
	}
	if _, err := j.Stable(checkout, "production"); !errors.Is(err, reconcile.ErrNoRollout) {
		t.Errorf("Stable(production) after its deletion = %v; want ErrNoRollout", err)
	}
	rec, _ = j.App(checkout)
	if d := rec.Deleted["production"]; d.Commit != "fff000" || d.Revision != "abc123" {
		t.Errorf("deletion record = %+v", d)
	}
	// The application comes back: its new rollout is deployed again.
	if _, err := j.Start(checkout, "0aa111", canaryPlan()); err != nil {
		t.Fatal(err)
	}
	dep, _ = j.Deployed(checkout)
	if len(dep) != 2 || dep[0].Revision != "0aa111" {
		t.Errorf("Deployed after the application came back = %+v", dep)
	}
}
