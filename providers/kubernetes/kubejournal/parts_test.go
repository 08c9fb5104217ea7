package kubejournal

import (
	"testing"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

// Every record the Journal writes is in the part reconcile.PartOf names
// (what jibe journal migrate relies on), and each part in its object.
func TestEveryRecordIsInItsPart(t *testing.T) {
	e := newEnv(t)
	j := reconcile.NewJournal(e.open("agent-a", nil, Options{}), reconcile.JournalOptions{})
	api := reconcile.AppID{Source: "shop", Name: "api"}
	at := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	steps := []func() error{
		func() error { return j.SetFolder(shopWeb, "apps/web") },
		func() error {
			r, err := j.Start(shopWeb, "abc1234", plan)
			if err == nil {
				_, err = j.Finish(r.ID, reconcile.RolloutSucceeded, "")
			}
			return err
		},
		func() error { _, err := j.StartCorrection(shopWeb, "abc1234", plan); return err },
		func() error { _, err := j.StartAgain(api, "def5678", plan, reconcile.ActionRetry); return err },
		func() error { return j.RecordDeletion(shopWeb, "production", "c0ffee") },
		func() error { return j.SetHold(reconcile.PauseKey(shopWeb), reconcile.Hold{Kind: reconcile.HoldPause}) },
		func() error {
			return j.SetHold(reconcile.RollbackKey(api, "production"), reconcile.Hold{Kind: reconcile.HoldRollback})
		},
		func() error {
			return j.SetHold(reconcile.PauseKey(reconcile.AppID{Source: "shop"}), reconcile.Hold{Kind: reconcile.HoldPause})
		},
		func() error {
			return j.RecordAction(reconcile.ActionRecord{Action: reconcile.ActionPause, Source: "shop", At: at})
		},
		func() error {
			return j.RecordAction(reconcile.ActionRecord{Action: reconcile.ActionAbort, Source: "shop", App: "web", Env: "production", At: at})
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	parts := map[string]bool{}
	for _, cm := range e.list(t) {
		part := cm.Annotations[AnnotationPart]
		parts[part] = true
		recs, err := decode(part, &cm)
		if err != nil {
			t.Fatal(err)
		}
		for b, kv := range recs {
			for k := range kv {
				if got := reconcile.PartOf(b, k); got != part {
					t.Errorf("%s %s is in part %s, PartOf says %s", b, k, part, got)
				}
			}
		}
	}
	for _, want := range []string{"shop/web", "shop/api", reconcile.PartSources, reconcile.PartActions} {
		if !parts[want] {
			t.Errorf("no object of part %s among %v", want, parts)
		}
	}
}
