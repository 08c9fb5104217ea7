package ecs

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func TestThrottlingIsRetriedWithoutFailingTheRollout(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", canary())
	r.rollout(v1)
	for _, f := range []awsemu.Fault{
		{Service: "ecs", Operation: "DescribeServices"}, {Service: "ecs", Operation: "UpdateService"},
		{Service: "ecs", Operation: "CreateService"}, {Service: "ecs", Operation: "RegisterTaskDefinition"},
		{Service: "elasticloadbalancing", Operation: "ModifyListener"}, {Service: "elasticloadbalancing", Operation: "DescribeListeners"},
		{Service: "application-autoscaling"},
	} {
		f.Kind, f.Count = awsemu.Throttle, 3
		r.env.Emu.Inject(f)
	}
	r.env.Emu.ResetRequests()
	r.rollout(r.next(v1, "rev2", "shop/web:v2"))
	throttled := 0
	for _, q := range r.env.Emu.Requests() {
		if q.Status == 400 {
			throttled++
		}
	}
	if throttled < 15 {
		t.Errorf("only %d calls were throttled; the faults did not fire", throttled)
	}
	assertOnlyStable(t, r, "shop/web:v2")
}

func TestWrongInputStalls(t *testing.T) {
	r := newRig(t)
	d := r.deployment("rev1", "shop/web:v1", nil)
	d.Target.Service.LoadBalancers[0].TargetGroupArn = r.blue + "-missing"
	err := r.p.Apply(r.ctx, d)
	if reconcile.PolicyOf(err) != reconcile.PolicyStall {
		t.Errorf("missing target group: %v (%v), want stalled", err, reconcile.PolicyOf(err))
	}
	d = r.deployment("rev1", "shop/web:v1", blueGreen())
	d.Target.ECS.Traffic = nil
	if err := r.p.Apply(r.ctx, d); !errors.Is(err, errNoTraffic) || reconcile.PolicyOf(err) != reconcile.PolicyStall {
		t.Errorf("blue/green without traffic: %v, want stalled", err)
	}
	d = r.deployment("rev1", "shop/web:v1", nil)
	if err := r.p.Rollback(r.ctx, d); !errors.Is(err, errNoPrevious) {
		t.Errorf("rollback of a first deploy: %v", err)
	}
	d.Environment.Strategy = &spec.Strategy{Rolling: &spec.Rolling{}, Canary: &spec.Canary{}}
	d.Mode = d.Environment.Strategy.Kind()
	if err := r.p.Apply(r.ctx, d); reconcile.PolicyOf(err) != reconcile.PolicyStall {
		t.Errorf("two strategies: %v, want stalled", err)
	}
}

func TestClassify(t *testing.T) {
	for code, want := range map[string]reconcile.Policy{
		"AccessDeniedException":     reconcile.PolicyStall,
		"InvalidParameterException": reconcile.PolicyStall,
		"ValidationError":           reconcile.PolicyStall,
		"ThrottlingException":       reconcile.PolicyBackoff,
		"ServerException":           reconcile.PolicyBackoff,
	} {
		err := classify(fmt.Errorf("update service web: %w", &smithy.GenericAPIError{Code: code, Message: "no"}))
		if got := reconcile.PolicyOf(err); got != want {
			t.Errorf("%s: %v, want %v", code, got, want)
		}
		var api smithy.APIError
		if !errors.As(err, &api) {
			t.Errorf("%s: the AWS error is no longer wrapped", code)
		}
	}
}
