package lambda

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func canary() *spec.Strategy {
	ten, fifty := spec.Percent(10), spec.Percent(50)
	return &spec.Strategy{Canary: &spec.Canary{Steps: []spec.CanaryStep{{SetWeight: &ten}, {SetWeight: &fifty}}}}
}

func TestCanaryTenFiftyHundredMovesAliasWeights(t *testing.T) {
	r := newRig(t, Options{})
	v1 := r.deployment("rev1", function("orders-1.zip"), canary())
	r.rollout(v1)
	v2 := r.next(v1, "rev2", function("orders-2.zip"))
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	if v, w := r.routing(); v != "1" || w != nil {
		t.Fatalf("after Apply the alias is at %s %v, want version 1 alone", v, w)
	}
	if h := r.waitHealth(v2); h.State != reconcile.HealthHealthy {
		t.Fatalf("health %+v", h)
	}
	for _, w := range []spec.Percent{10, 50} {
		r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, v2, w) })
		v, weights := r.routing()
		if v != "1" || len(weights) != 1 || weights["2"] != float64(w)/100 {
			t.Fatalf("at %v%% the alias is at %s %v, want 1 with 2 at %v", w, v, weights, float64(w)/100)
		}
		ran := r.executed(100)
		if ran["2"] != int(w) || ran["1"] != 100-int(w) {
			t.Errorf("at %v%% of 100 invocations versions ran %v", w, ran)
		}
	}
	r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, v2, 100) })
	if v, w := r.routing(); v != "2" || w != nil {
		t.Fatalf("at 100%% the alias is at %s %v, want 2 alone", v, w)
	}
	r.until("promote", func() error { return r.p.Promote(r.ctx, v2) })
	if v, w := r.routing(); v != "2" || w != nil {
		t.Fatalf("after promotion the alias is at %s %v", v, w)
	}
	if changes, err := r.p.Diff(r.ctx, v2); err != nil || len(changes) != 0 {
		t.Errorf("diff after promotion = %+v, %v", changes, err)
	}
}

func TestCanaryAbortRestoresOldVersionAtOnce(t *testing.T) {
	r := newRig(t, Options{})
	v1 := r.deployment("rev1", function("orders-1.zip"), canary())
	r.rollout(v1)
	v2 := r.next(v1, "rev2", function("orders-2.zip"))
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	r.waitHealth(v2)
	r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, v2, 50) })
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, v2) })
	if v, w := r.routing(); v != "1" || w != nil {
		t.Fatalf("after abort the alias is at %s %v, want version 1 alone", v, w)
	}
	if ran := r.executed(20); ran["1"] != 20 {
		t.Errorf("after abort versions ran %v", ran)
	}
	if changes, err := r.p.Diff(r.ctx, v1); err != nil || len(changes) != 0 {
		t.Errorf("diff of the previous revision after abort = %+v, %v; want none", changes, err)
	}
	// A promoted version is rolled back to the previous revision's version.
	r.rollout(v2)
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, v2) })
	if v, w := r.routing(); v != "1" || w != nil {
		t.Errorf("rollback after promotion: alias at %s %v, want 1 alone", v, w)
	}
}

func TestRollingMovesAliasAtOnceAndRollsBack(t *testing.T) {
	r := newRig(t, Options{})
	v1 := r.deployment("rev1", function("orders-1.zip"), nil)
	r.rollout(v1)
	v2 := r.next(v1, "rev2", function("orders-2.zip"))
	r.rollout(v2)
	if v, w := r.routing(); v != "2" || w != nil {
		t.Fatalf("alias at %s %v, want 2", v, w)
	}
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, v2) })
	if v, _ := r.routing(); v != "1" {
		t.Errorf("after rollback the alias is at %s, want 1", v)
	}
	// Deploying revision 1's files again reuses its version.
	v3 := r.next(v2, "rev3", function("orders-1.zip"))
	r.env.Emu.ResetRequests()
	r.rollout(v3)
	if vs := r.versionList(); len(vs) != 2 {
		t.Errorf("versions %v: a revert published a new version", vs)
	}
}

func TestOldVersionsArePrunedButNeverAnAliasedOne(t *testing.T) {
	r := newRig(t, Options{KeepVersions: 2})
	d := r.deployment("rev1", function("orders-1.zip"), nil)
	r.rollout(d)
	if _, err := r.fn.CreateAlias(r.ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("pinned"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{"orders-2.zip", "orders-3.zip", "orders-4.zip", "orders-5.zip"} {
		d = r.next(d, "rev"+string(rune('2'+i)), function(key))
		r.rollout(d)
	}
	if got := strings.Join(r.versionList(), ","); got != "1,4,5" {
		t.Errorf("versions left %s, want 1 (aliased), 4 and 5", got)
	}
}

func TestConflictRetriedThenFailsClearlyWhenExhausted(t *testing.T) {
	r := newRig(t, Options{ConflictRetries: 3})
	v1 := r.deployment("rev1", function("orders-1.zip"), nil)
	r.rollout(v1)
	v2 := r.next(v1, "rev2", function("orders-2.zip"))

	// One conflict: retried after the backoff, then the update goes through.
	r.env.Emu.Inject(awsemu.Fault{Service: "lambda", Operation: "UpdateFunctionCode", Kind: awsemu.Conflict, Count: 1})
	err := r.p.Apply(r.ctx, v2)
	var w *reconcile.WaitingError
	if !errors.As(err, &w) || !strings.Contains(err.Error(), "busy with another update") {
		t.Fatalf("first conflict: %v, want Waiting", err)
	}
	r.rollout(v2)

	v3 := r.next(v2, "rev3", function("orders-3.zip"))
	r.env.Emu.Inject(awsemu.Fault{Service: "lambda", Operation: "UpdateFunctionCode", Kind: awsemu.Conflict})
	var waits []string
	err = r.try(func() error {
		err := r.p.Apply(r.ctx, v3)
		if errors.As(err, &w) {
			waits = append(waits, w.RequeueAfter.String())
		}
		return err
	})
	if reconcile.PolicyOf(err) != reconcile.PolicyStall {
		t.Fatalf("exhausted: %v (policy %v), want stalled", err, reconcile.PolicyOf(err))
	}
	for _, want := range []string{"orders stayed busy after 4 attempts", "ResourceConflictException", "stop it, then retry"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Join(waits, " ") != "1s 2s 4s" {
		t.Errorf("waits %v, want the backoff's 1s 2s 4s", waits)
	}
}

func TestVersionsNameNewAndStable(t *testing.T) {
	r := newRig(t, Options{})
	v1 := r.deployment("rev1", function("orders-1.zip"), canary())
	r.rollout(v1)
	v2 := r.next(v1, "rev2", function("orders-2.zip"))
	if v, err := r.p.Versions(r.ctx, v2); err != nil || v != (reconcile.RolloutVersions{New: "", Stable: "1"}) {
		t.Errorf("before Apply: %+v, %v", v, err)
	}
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, v2, 10) })
	if v, err := r.p.Versions(r.ctx, v2); err != nil || v != (reconcile.RolloutVersions{New: "2", Stable: "1"}) {
		t.Errorf("during the canary: %+v, %v", v, err)
	}
	r.until("promote", func() error { return r.p.Promote(r.ctx, v2) })
	if v, err := r.p.Versions(r.ctx, v2); err != nil || v != (reconcile.RolloutVersions{New: "2", Stable: "1"}) {
		t.Errorf("after promotion: %+v, %v", v, err)
	}
}

func TestBlueGreenSwitchesAliasAtOnceAndRollsBack(t *testing.T) {
	r := newRig(t, Options{})
	bg := &spec.Strategy{BlueGreen: &spec.BlueGreen{}}
	v1 := r.deployment("rev1", function("orders-1.zip"), bg)
	r.rollout(v1)
	v2 := r.next(v1, "rev2", function("orders-2.zip"))
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	if v, w := r.routing(); v != "1" || w != nil {
		t.Fatalf("before the switch the alias is at %s %v", v, w)
	}
	r.waitHealth(v2)
	r.until("switch", func() error { return r.p.ShiftTraffic(r.ctx, v2, 100) })
	if v, w := r.routing(); v != "2" || w != nil {
		t.Fatalf("after the switch the alias is at %s %v, want 2 alone", v, w)
	}
	r.until("promote", func() error { return r.p.Promote(r.ctx, v2) })
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, v2) })
	if v, w := r.routing(); v != "1" || w != nil {
		t.Errorf("rollback in the rollback window: alias at %s %v, want 1 alone", v, w)
	}
}
