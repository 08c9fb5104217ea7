package reconcile

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/spec"
)

// dep is a deployment of target web, api... in an environment keeping or
// removing failed first deploys.
func dep(target string, previous bool, firstDeploy spec.FirstDeployPolicy) *Deployment {
	d := &Deployment{Target: &spec.RenderedTarget{Target: &spec.Target{Name: target}},
		Environment: &spec.Environment{Name: "staging", FirstDeployFailure: firstDeploy}, Mode: spec.StrategyRolling}
	if previous {
		d.Previous, d.PreviousRevision = &spec.RenderedTarget{Target: &spec.Target{Name: target}}, "1a2b3c4d5e6f"
	}
	return d
}

// shifting sets the strategy of deps' environments, and their mode.
func shifting(s *spec.Strategy, deps ...*Deployment) []*Deployment {
	for _, d := range deps {
		d.Environment.Strategy, d.Mode = s, s.Kind()
	}
	return deps
}

// rollout is a rolling rollout of web then api, with those changes, that
// failed at its verify step, or at step next.
func failedRollout(next int, changes ...Change) *Rollout {
	steps := append(perTarget(StepApply, []string{"web", "api"}), perTarget(StepWaitHealthy, []string{"web", "api"})...)
	steps = append(steps, Step{Kind: StepVerify})
	if next < 0 {
		next = len(steps) - 1
	}
	return &Rollout{Plan: EnvPlan{Changes: changes, Steps: steps}, Next: next,
		Reason: "check smoke failed: status 503, want 200"}
}

var (
	createWeb = Change{Target: "web", Action: ActionCreate}
	updateWeb = Change{Target: "web", Action: ActionUpdate}
	createAPI = Change{Target: "api", Action: ActionCreate}
	updateAPI = Change{Target: "api", Action: ActionUpdate}
)

// What a rollback does to each target, and how the rollout then ends.
func TestRollbackOutcome(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      *Rollout
		deps   []*Deployment
		kinds  []undoKind // web, api
		ending string
	}{
		{"first deploy removed", failedRollout(-1, createWeb, createAPI),
			[]*Deployment{dep("web", false, ""), dep("api", false, "")}, []undoKind{undoRemove, undoRemove},
			"first deploy removed (nothing to roll back to): check smoke failed: status 503, want 200; push a fix"},
		{"first deploy kept", failedRollout(-1, createWeb),
			[]*Deployment{dep("web", false, spec.FirstDeployKeep), dep("api", false, spec.FirstDeployKeep)}, []undoKind{undoKeep, undoNothing},
			"first deploy kept in place (firstDeployFailure: keep): check smoke failed: status 503, want 200; push a fix, or delete it by hand"},
		{"new target beside a restored one", failedRollout(-1, updateWeb, createAPI),
			[]*Deployment{dep("web", true, ""), dep("api", false, spec.FirstDeployKeep)}, []undoKind{undoRestore, undoKeep},
			"web rolled back to 1a2b3c4, new target api kept in place (firstDeployFailure: keep): check smoke failed: status 503, want 200; push a fix, or delete it by hand"},
		{"no readable previous revision", failedRollout(-1, updateWeb),
			[]*Deployment{dep("web", false, ""), dep("api", false, "")}, []undoKind{undoUnknown, undoNothing},
			"left in place (no earlier revision is known to roll back to): check smoke failed: status 503, want 200; push a fix"},
		{"canary without a known previous revision", failedRollout(-1, updateWeb),
			shifting(&spec.Strategy{Canary: &spec.Canary{}}, dep("web", false, ""), dep("api", false, "")), []undoKind{undoTraffic, undoNothing},
			"canary removed, traffic back on the version that ran before (no earlier revision is known to roll back to): check smoke failed: status 503, want 200; push a fix"},
		{"blue/green without a known previous revision beside a restored one", failedRollout(-1, updateWeb, updateAPI),
			shifting(&spec.Strategy{BlueGreen: &spec.BlueGreen{}}, dep("web", true, ""), dep("api", false, "")), []undoKind{undoRestore, undoTraffic},
			"web rolled back to 1a2b3c4, api: new version removed, traffic back on the version that ran before (no earlier revision is known to roll back to): check smoke failed: status 503, want 200; push a fix"},
		{"failed before reaching a target", failedRollout(1, createWeb, createAPI),
			[]*Deployment{dep("web", false, ""), dep("api", false, "")}, []undoKind{undoRemove, undoRemove}, ""},
		{"failed before any change", failedRollout(0, createWeb, createAPI),
			[]*Deployment{dep("web", false, ""), dep("api", false, "")}, []undoKind{undoRemove, undoNothing}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The platform returns traffic for every strategy that shifts it.
			us := returning(undos(tc.r, tc.deps), func(d *Deployment) bool { return d.Mode != spec.StrategyRolling })
			got := []undoKind{us[1].kind, us[0].kind} // undos are in reverse order
			if got[0] != tc.kinds[0] || got[1] != tc.kinds[1] {
				t.Errorf("undos = %v, want %v", got, tc.kinds)
			}
			if tc.ending == "" {
				return
			}
			if o := outcome(tc.r, us); o != tc.ending {
				t.Errorf("outcome =\n%q, want\n%q", o, tc.ending)
			}
		})
	}
}

// Superseding a rollout that shifts traffic returns it to the version
// that ran before on the targets the rollout reached that ran one; a
// target the rollout created (a first deploy) is left for the newer
// revision to apply over.
func TestSupersedingReturnsTrafficWhereAVersionRanBefore(t *testing.T) {
	canary := &spec.Strategy{Canary: &spec.Canary{}}
	for _, tc := range []struct {
		name     string
		r        *Rollout
		deps     []*Deployment
		strategy *spec.Strategy
		want     []string
	}{
		{"first deploy of a new target beside a restored one", failedRollout(-1, updateWeb, createAPI),
			[]*Deployment{dep("web", true, ""), dep("api", false, "")}, canary, []string{"web"}},
		{"first deploy kept or removed alike", failedRollout(-1, createWeb, createAPI),
			[]*Deployment{dep("web", false, spec.FirstDeployKeep), dep("api", false, "")}, canary, nil},
		{"no known previous revision", failedRollout(-1, updateWeb),
			[]*Deployment{dep("web", false, ""), dep("api", false, "")}, canary, []string{"web"}},
		{"target not reached", failedRollout(0, updateWeb, updateAPI),
			[]*Deployment{dep("web", true, ""), dep("api", true, "")}, canary, []string{"web"}},
		{"rolling", failedRollout(-1, updateWeb, updateAPI),
			[]*Deployment{dep("web", true, ""), dep("api", true, "")}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, d := range tc.deps {
				d.Environment.Strategy, d.Mode = tc.strategy, tc.strategy.Kind()
			}
			var got []string
			for _, d := range superseding(tc.r, tc.deps) {
				got = append(got, d.Target.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("superseding returns traffic on %v, want %v", got, tc.want)
			}
		})
	}
}

// A rollback's start and progress are journaled: a restart finds them.
func TestJournalRollbackProgress(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := OpenJournal(path, JournalOptions{Clock: clocktesting.NewFakePassiveClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := j.Start(AppID{Source: "acme", Name: "shop"}, "4f2c9a1b7e3d", EnvPlan{Name: "staging"})
	if _, err := j.RollbackUndone(r.ID); err == nil {
		t.Error("a rollout that is not rolling back was marked undone")
	}
	if _, err := j.StartRollback(r.ID, "broken"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, err := j.StartRollback(r.ID, "broken again"); err != nil {
		t.Fatal(err)
	}
	if _, err := j.RollbackUndone(r.ID); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if j, err = OpenJournal(path, JournalOptions{}); err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got, _ := j.Get(r.ID)
	if !got.RollingBack || !got.Rollback.Undone || !got.Rollback.Started.Equal(now.Add(-time.Minute)) || got.Reason != "broken again" {
		t.Errorf("rollout = %+v", got)
	}
}
