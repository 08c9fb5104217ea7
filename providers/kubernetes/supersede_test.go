package kubernetes

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// A newer revision superseding a canary of a target that has no stable
// version deletes nothing: there is no traffic to return, and the newer
// revision applies over what runs. Here no revision has succeeded in the
// environment yet (its first deploy was itself superseded before it
// succeeded), so the agent gives the next revisions no previous one, and
// their plan is a canary since the objects exist.
func TestSupersedingACanaryWithoutAStableVersionDeletesNothing(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	e := newEngine(t, p)
	pause := 10 * time.Minute
	strategy := &spec.Strategy{Canary: &spec.Canary{Steps: []spec.CanaryStep{
		{SetWeight: new(spec.Percent(50))}, {Pause: &spec.Pause{Duration: spec.Duration{Duration: pause}}}}}}
	web := func(rev string) *reconcile.Deployment {
		return deployment(ns, rev, strategy, target(spec.KubernetesTarget{},
			webDeployment("web", "registry.test/web:"+rev, 2), webService("web")))
	}
	rollOut(t, p, web("v1"))
	dep, svc := getDeployment(t, c, ns, "web").UID, getService(t, c, ns, "web").UID

	d2 := web("v2")
	ro2 := e.start(t, p, d2)
	if ro2.Plan.FirstDeploy {
		t.Fatal("v2 plans a first deploy; want a canary over the objects that exist")
	}
	poll(t, "the v2 canary to pause", func(ctx context.Context) (bool, error) {
		next, err := e.x.Advance(ctx, ro2, []*reconcile.Deployment{d2})
		ro2 = next
		var w *reconcile.WaitingError
		if err != nil && !errors.As(err, &w) {
			return false, err
		}
		return !ro2.State.Final() && ro2.Plan.Steps[ro2.Next].Kind == reconcile.StepPause, nil
	})

	d3 := web("v3")
	ro2, err := e.x.Supersede(t.Context(), ro2, []*reconcile.Deployment{d3}, d3.Revision)
	if err != nil || ro2.State != reconcile.RolloutSuperseded {
		t.Fatalf("superseding v2: %s, %v", ro2.State, err)
	}
	wantSame(t, c, ns, dep, svc, "registry.test/web:v2")

	ro3 := e.start(t, p, d3)
	poll(t, "the v3 rollout to end", func(ctx context.Context) (bool, error) {
		next, err := e.x.Advance(ctx, ro3, []*reconcile.Deployment{d3})
		ro3 = next
		var w *reconcile.WaitingError
		if errors.As(err, &w) && ro3.Plan.Steps[ro3.Next].Kind == reconcile.StepPause {
			e.clock.Step(pause)
		} else if err != nil && w == nil {
			return false, err
		}
		return ro3.State.Final(), nil
	})
	if ro3.State != reconcile.RolloutSucceeded {
		t.Fatalf("v3 rollout = %s: %s", ro3.State, ro3.Reason)
	}
	wantSame(t, c, ns, dep, svc, "registry.test/web:v3")
}

// wantSame checks that the Deployment and Service web are those of UIDs
// dep and svc, never deleted, and that the Deployment runs img.
func wantSame(t *testing.T, c *kube.Cluster, ns string, dep, svc types.UID, img string) {
	t.Helper()
	d, s := getDeployment(t, c, ns, "web"), getService(t, c, ns, "web")
	if d.UID != dep || s.UID != svc {
		t.Errorf("deployment and service web were deleted and created again: UIDs %s, %s; want %s, %s", d.UID, s.UID, dep, svc)
	}
	if image(d) != img {
		t.Errorf("deployment web runs %s, want %s", image(d), img)
	}
}
