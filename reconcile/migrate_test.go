package reconcile_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/jibe-dev/jibe/reconcile"
)

// Two sources' applications of the same name have their own current and
// stable rollouts: one's rollout does not replace the other's.
func TestJournalKeepsSameNamedApplicationsApart(t *testing.T) {
	j := openJournal(t, filepath.Join(t.TempDir(), "journal.db"))
	defer j.Close()
	a := reconcile.AppID{Source: "team-a", Name: "checkout"}
	b := reconcile.AppID{Source: "team-b", Name: "checkout"}
	ra, _ := j.Start(a, "a1", canaryPlan())
	if _, err := j.Finish(ra.ID, reconcile.RolloutSucceeded, ""); err != nil {
		t.Fatal(err)
	}
	rb, _ := j.Start(b, "b1", canaryPlan())
	if _, err := j.Finish(rb.ID, reconcile.RolloutSucceeded, ""); err != nil {
		t.Fatal(err)
	}
	if ra.ID != "team-a/checkout/production/a1" || ra.Source != "team-a" || ra.AppID() != a {
		t.Errorf("rollout of %s = %s (source %q)", a, ra.ID, ra.Source)
	}
	for id, want := range map[reconcile.AppID]string{a: "a1", b: "b1"} {
		stable, err := j.Stable(id, "production")
		if err != nil || stable.Revision != want {
			t.Errorf("stable of %s = %+v, %v; want %s", id, stable, err, want)
		}
		cur, err := j.Current(id, "production")
		if err != nil || cur.Revision != want {
			t.Errorf("current of %s = %+v, %v; want %s", id, cur, err, want)
		}
	}
	if legacy, err := j.Legacy(); err != nil || len(legacy) != 0 {
		t.Errorf("legacy = %v, %v", legacy, err)
	}
}

// legacyRollout is a rollout as journals written before application
// identity hold it: no source, ID app/env/revision.
func legacyRollout(id, state, started, updated string) string {
	app, rest, _ := strings.Cut(id, "/")
	env, rev, _ := strings.Cut(rest, "/")
	rev, _, _ = strings.Cut(rev, "#")
	correction := ""
	if strings.Contains(id, "#correction") {
		correction = `,"correction":true`
	}
	return fmt.Sprintf(`{"id":%q,"app":%q,"env":%q,"revision":%q,"plan":{"name":%q,"strategy":"rolling","changes":[{"target":"web","resource":"apps/v1 Deployment ns/web","action":"update"}],"steps":[{"kind":"apply","target":"web"}]},"next":1,"state":%s%s,"started":%q,"updated":%q}`,
		id, app, env, rev, env, state, correction, "2026-11-23T12:00:"+started+"Z", "2026-11-23T12:00:"+updated+"Z")
}

// writeLegacyJournal writes, with bbolt directly, a journal as the agent
// wrote it before application identity. Team A's and team B's checkout
// shared the records app/env: B's success at b1 replaced A's stable a1.
func writeLegacyJournal(t *testing.T, path string) {
	t.Helper()
	const succeeded, running = "2", "1"
	rollouts := map[string]string{
		"checkout/staging/a1":                   legacyRollout("checkout/staging/a1", succeeded, "01", "02"),
		"checkout/staging/a1#correction-170000": legacyRollout("checkout/staging/a1#correction-170000", succeeded, "03", "04"),
		"checkout/staging/b1":                   legacyRollout("checkout/staging/b1", succeeded, "05", "06"),
		"checkout/staging/a2":                   legacyRollout("checkout/staging/a2", running, "07", "08"),
		"payments/staging/p1":                   legacyRollout("payments/staging/p1", succeeded, "09", "10"),
		"orphan/staging/o1":                     legacyRollout("orphan/staging/o1", succeeded, "11", "12"),
	}
	current := map[string]string{"checkout/staging": "checkout/staging/a2", "payments/staging": "payments/staging/p1", "orphan/staging": "orphan/staging/o1"}
	stable := map[string]string{"checkout/staging": "checkout/staging/b1", "payments/staging": "payments/staging/p1", "orphan/staging": "orphan/staging/o1"}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		for name, kv := range map[string]map[string]string{"rollouts": rollouts, "current": current, "stable": stable} {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for k, v := range kv {
				if err := b.Put([]byte(k), []byte(v)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// assignByRevision assigns legacy rollouts as the agent would from what it
// knows: here, the revision tells the repository (a* is team A's, b* team
// B's), payments is team A's, orphan nobody's.
func assignByRevision(r *reconcile.Rollout) string {
	switch {
	case r.App == "orphan":
		return ""
	case r.App == "payments" || strings.HasPrefix(r.Revision, "a"):
		return "team-a"
	}
	return "team-b"
}

// A journal written before application identity is migrated on a real
// bbolt file: each rollout goes to its source under its new ID, the
// current and stable records are rebuilt per source (team A gets back the
// stable revision team B had overwritten, so a failure of A rolls back to
// A's revision), an unassignable rollout stays legacy, and a second
// migration changes nothing.
func TestJournalMigratesLegacyRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	writeLegacyJournal(t, path)
	j := openJournal(t, path)
	legacy, err := j.Legacy()
	if err != nil || len(legacy) != 6 {
		t.Fatalf("legacy = %d rollouts, %v; want 6", len(legacy), err)
	}
	res, err := j.Migrate(assignByRevision)
	if err != nil {
		t.Fatal(err)
	}
	a := reconcile.AppID{Source: "team-a", Name: "checkout"}
	b := reconcile.AppID{Source: "team-b", Name: "checkout"}
	pay := reconcile.AppID{Source: "team-a", Name: "payments"}
	if res.Assigned[a] != 3 || res.Assigned[b] != 1 || res.Assigned[pay] != 1 || len(res.Left) != 1 || res.Left[0].ID != "orphan/staging/o1" {
		t.Fatalf("migration = %+v", res)
	}
	checkMigrated(t, j)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	// Idempotent: the next start finds only the orphan, and changes nothing.
	j = openJournal(t, path)
	defer j.Close()
	var offered []string
	res, err = j.Migrate(func(r *reconcile.Rollout) string { offered = append(offered, r.ID); return "" })
	if err != nil || len(res.Assigned) != 0 || len(offered) != 1 || offered[0] != "orphan/staging/o1" {
		t.Fatalf("second migration = %+v, %v; offered %v", res, err, offered)
	}
	checkMigrated(t, j)
}

func checkMigrated(t *testing.T, j *reconcile.Journal) {
	t.Helper()
	a := reconcile.AppID{Source: "team-a", Name: "checkout"}
	b := reconcile.AppID{Source: "team-b", Name: "checkout"}
	for _, c := range []struct {
		id              reconcile.AppID
		current, stable string
	}{
		{a, "team-a/checkout/staging/a2", "team-a/checkout/staging/a1#correction-170000"},
		{b, "team-b/checkout/staging/b1", "team-b/checkout/staging/b1"},
		{reconcile.AppID{Source: "team-a", Name: "payments"}, "team-a/payments/staging/p1", "team-a/payments/staging/p1"},
		{reconcile.AppID{Name: "orphan"}, "orphan/staging/o1", "orphan/staging/o1"},
	} {
		cur, err := j.Current(c.id, "staging")
		if err != nil || cur.ID != c.current || cur.AppID() != c.id {
			t.Errorf("current of %s = %+v, %v; want %s", c.id, cur, err, c.current)
		}
		stable, err := j.Stable(c.id, "staging")
		if err != nil || stable.ID != c.stable {
			t.Errorf("stable of %s = %+v, %v; want %s", c.id, stable, err, c.stable)
		}
	}
	for _, gone := range []string{"checkout/staging/a1", "checkout/staging/b1", "payments/staging/p1"} {
		if _, err := j.Get(gone); !errors.Is(err, reconcile.ErrNoRollout) {
			t.Errorf("legacy rollout %s is still there: %v", gone, err)
		}
	}
	if _, err := j.Current(reconcile.AppID{Name: "checkout"}, "staging"); !errors.Is(err, reconcile.ErrNoRollout) {
		t.Errorf("the legacy current record of checkout is still there: %v", err)
	}
	r, err := j.Get("team-a/checkout/staging/a1")
	if err != nil || r.Source != "team-a" || r.Revision != "a1" || len(r.Plan.Steps) != 1 {
		t.Errorf("migrated rollout = %+v, %v", r, err)
	}
	running, _ := j.Running()
	if len(running) != 1 || running[0].ID != "team-a/checkout/staging/a2" {
		b, _ := json.Marshal(running)
		t.Errorf("running = %s", b)
	}
	if legacy, _ := j.Legacy(); len(legacy) != 1 || legacy[0].ID != "orphan/staging/o1" {
		t.Errorf("legacy left = %v", legacy)
	}
}

func TestAppIDString(t *testing.T) {
	for id, want := range map[reconcile.AppID]string{
		{Source: "shop", Name: "checkout"}: "shop/checkout",
		{Name: "checkout"}:                 "checkout", // legacy: no source
	} {
		if got := id.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", id, got, want)
		}
	}
}
