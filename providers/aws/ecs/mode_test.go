package ecs

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// A rollout journaled before plans carried their mode (the first deploy
// of a canary environment, written in the old shape: strategy canary,
// firstDeploy, no mode) resumes in the mode it started in: the service is
// created in place (rolling), with no canary service beside it.
func TestRolloutJournaledWithoutModeResumesInItsMode(t *testing.T) {
	r := newRig(t)
	d := r.deployment("rev1", "shop/web:v1", &spec.Strategy{Canary: &spec.Canary{}})
	e := &engine{r: r, path: filepath.Join(t.TempDir(), "journal.db")}
	writeOldShapeRollout(t, e.path, d)
	e.open()

	ro, err := e.j.Current(d.AppID(), d.Env)
	if err != nil || ro.Plan.Mode != spec.StrategyRolling {
		t.Fatalf("journaled rollout: mode %v, %v; want rolling", ro.Plan.Mode, err)
	}
	ro = e.run(ro, d, ended)
	if ro.State != reconcile.RolloutSucceeded {
		t.Fatalf("rollout = %s: %s", ro.State, ro.Reason)
	}
	if r.live("web") == nil || r.live("web-canary") != nil {
		t.Errorf("services web %v, web-canary %v; want web alone, created in place", r.live("web") != nil, r.live("web-canary") != nil)
	}
}

// writeOldShapeRollout writes, with bbolt directly, d's rollout as agents
// journaled it before plans carried their mode: started, no step run yet.
func writeOldShapeRollout(t *testing.T, path string, d *reconcile.Deployment) {
	t.Helper()
	id := reconcile.RolloutID(d.AppID(), d.Env, d.Revision)
	plan := fmt.Sprintf(`{"name":%q,"strategy":"canary","firstDeploy":true,`+
		`"changes":[{"target":"web","resource":"ECS service web","action":"create"}],`+
		`"steps":[{"kind":"apply","target":"web"},{"kind":"wait-healthy","target":"web"},{"kind":"promote","target":"web"}]}`, d.Env)
	rollout := fmt.Sprintf(`{"id":%q,"app":%q,"env":%q,"revision":%q,"plan":%s,"next":0,"state":1,"started":"2026-11-23T12:00:00Z","updated":"2026-11-23T12:00:00Z"}`,
		id, d.App, d.Env, d.Revision, plan)
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		records := map[string][2]string{"rollouts": {id, rollout}, "current": {strings.TrimSuffix(id, "/"+d.Revision), id}}
		for bucket, kv := range records {
			b, err := tx.CreateBucket([]byte(bucket))
			if err == nil {
				err = b.Put([]byte(kv[0]), []byte(kv[1]))
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.CreateBucket([]byte("stable"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
