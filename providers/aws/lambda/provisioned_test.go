package lambda

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// withProvisioned asks d's target for n provisioned executions.
func withProvisioned(d *reconcile.Deployment, n int32) *reconcile.Deployment {
	l := *d.Target.Lambda
	l.ProvisionedConcurrency = aws.Int32(n)
	t := *d.Target.Target
	t.Lambda = &l
	d.Target.Target = &t
	d.Target.Lambda = &l
	return d
}

// provisionedOn returns the provisioned concurrency configurations of
// orders by version.
func (r *rig) provisionedOn() map[string]types.ProvisionedConcurrencyStatusEnum {
	r.t.Helper()
	out, err := r.fn.ListProvisionedConcurrencyConfigs(r.ctx, &awslambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("orders")})
	if err != nil {
		r.t.Fatal(err)
	}
	m := map[string]types.ProvisionedConcurrencyStatusEnum{}
	for _, c := range out.ProvisionedConcurrencyConfigs {
		m[qualifierOf(aws.ToString(c.FunctionArn))] = c.Status
	}
	return m
}

func TestProvisionedConcurrencyReadyBeforeCanaryTrafficAndReleasedAfterPromotion(t *testing.T) {
	r := newRig(t, Options{})
	v1 := withProvisioned(r.deployment("rev1", function("orders-1.zip"), canary()), 5)
	r.rollout(v1)
	if pc := r.provisionedOn(); pc["1"] != types.ProvisionedConcurrencyStatusEnumReady {
		t.Fatalf("after the first rollout provisioned concurrency is %v, want version 1 READY", pc)
	}
	v2 := r.next(v1, "rev2", function("orders-2.zip"))
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	h, err := r.p.Health(r.ctx, v2)
	if err != nil || h.State != reconcile.HealthProgressing || !strings.Contains(h.Reason, "provisioned concurrency 0 of 5 ready on version 2") {
		t.Fatalf("health right after Apply = %+v, %v; want progressing on provisioned concurrency", h, err)
	}
	err = r.p.ShiftTraffic(r.ctx, v2, 10)
	if reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
		t.Fatalf("shift while provisioning: %v, want Waiting", err)
	}
	if v, w := r.routing(); v != "1" || w != nil {
		t.Fatalf("while provisioning the alias is at %s %v, want version 1 alone", v, w)
	}
	r.env.Emu.Advance(15 * time.Second)
	if h, _ := r.p.Health(r.ctx, v2); !strings.Contains(h.Reason, "provisioned concurrency 2 of 5 ready") {
		t.Errorf("health half way = %+v", h)
	}
	if h := r.waitHealth(v2); h.State != reconcile.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	for _, w := range []spec.Percent{10, 50, 100} {
		r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, v2, w) })
	}
	r.env.Emu.ResetRequests()
	r.until("promote", func() error { return r.p.Promote(r.ctx, v2) })
	if pc := r.provisionedOn(); len(pc) != 1 || pc["2"] != types.ProvisionedConcurrencyStatusEnumReady {
		t.Errorf("after promotion provisioned concurrency is %v, want version 2 alone", pc)
	}
	if w := r.writes(); !slices.Contains(w, "DeleteProvisionedConcurrencyConfig") {
		t.Errorf("promotion wrote %v, want the old version's provisioned concurrency deleted", w)
	}
	if changes, err := r.p.Diff(r.ctx, v2); err != nil || len(changes) != 0 {
		t.Errorf("diff after promotion = %+v, %v", changes, err)
	}
	r.env.Emu.ResetRequests()
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	if w := r.writes(); len(w) != 0 {
		t.Errorf("a no-op Apply wrote %v", w)
	}

	// Another number on the same version: a diff, then one Put.
	v3 := withProvisioned(r.next(v2, "rev3", function("orders-2.zip")), 7)
	changes, err := r.p.Diff(r.ctx, v3)
	if err != nil || len(changes) != 1 || changes[0].Fields[0] != (reconcile.FieldChange{Path: "ProvisionedConcurrentExecutions", Live: "5", Desired: "7"}) {
		t.Fatalf("diff of 5 → 7 = %+v, %v", changes, err)
	}
}

func TestProvisionedConcurrencyFailedFailsHealthAndRollbackReleasesIt(t *testing.T) {
	r := newRig(t, Options{})
	v1 := withProvisioned(r.deployment("rev1", function("orders-1.zip"), canary()), 5)
	r.rollout(v1)
	r.env.Emu.MarkFunctionVersionBroken("orders", "2")
	v2 := r.next(v1, "rev2", function("orders-2.zip"))
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	h := r.waitHealth(v2)
	if h.State != reconcile.HealthFailed || !strings.Contains(h.Reason, "FUNCTION_ERROR_INIT_FAILURE") {
		t.Fatalf("health of a version whose provisioned concurrency failed = %+v", h)
	}
	if err := r.p.ShiftTraffic(r.ctx, v2, 10); reconcile.PolicyOf(err) != reconcile.PolicyStall {
		t.Fatalf("shift to a failed version: %v, want stalled", err)
	}
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, v2) })
	if pc := r.provisionedOn(); len(pc) != 1 || pc["1"] == "" {
		t.Errorf("after rollback provisioned concurrency is %v, want version 1 alone", pc)
	}
}

func TestProvisionedConcurrencyRollingMovesAliasOnlyWhenReady(t *testing.T) {
	r := newRig(t, Options{})
	v1 := withProvisioned(r.deployment("rev1", function("orders-1.zip"), nil), 3)
	r.rollout(v1)
	v2 := r.next(v1, "rev2", function("orders-2.zip"))
	var waits []string
	r.until("apply", func() error {
		err := r.p.Apply(r.ctx, v2)
		if err != nil && strings.Contains(err.Error(), "provisioned concurrency") {
			waits = append(waits, err.Error())
			if v, _ := r.routing(); v != "1" {
				t.Fatalf("alias moved to %s while provisioned concurrency was not ready: %v", v, err)
			}
		}
		return err
	})
	if len(waits) == 0 || !strings.Contains(waits[0], "of 3 ready on version 2") {
		t.Errorf("Apply waited with %q, want provisioned concurrency progress", waits)
	}
	if v, _ := r.routing(); v != "2" {
		t.Errorf("after Apply the alias is at %s, want 2", v)
	}
}
