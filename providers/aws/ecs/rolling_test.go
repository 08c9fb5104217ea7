package ecs

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/reconcile"
)

func TestCreateFromNothingThenNoOpReconcileWritesNothing(t *testing.T) {
	r := newRig(t)
	d := r.deployment("rev1", "shop/web:v1", nil)
	changes, err := r.p.Diff(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Action != reconcile.ActionCreate || changes[1].Resource != "ECS service web" {
		t.Fatalf("first diff = %+v, want task definition and service created", changes)
	}
	if w := r.writes(); len(w) != 0 {
		t.Fatalf("Diff made write calls: %+v", w)
	}
	r.rollout(d)

	s := r.live("web")
	if s == nil || s.RunningCount != 2 || tagValue(s, TagRevision) != "rev1" || tagValue(s, "team") != "core" {
		t.Fatalf("service after create: %+v", s)
	}
	td, err := r.ecs.DescribeTaskDefinition(r.ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: s.TaskDefinition,
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range td.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags[TagApp] != "shop" || tags[TagEnvironment] != "prod" || tags[TagRevision] != "rev1" {
		t.Errorf("task definition tags = %v", tags)
	}

	r.env.Emu.ResetRequests()
	changes, err = r.p.Diff(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("diff after apply = %+v, want none", changes)
	}
	// Apply of the same revision again is a no-op as well.
	if err := r.p.Apply(r.ctx, d); err != nil {
		t.Fatal(err)
	}
	if w := r.writes(); len(w) != 0 {
		t.Errorf("no-op reconcile made %d write calls: %+v", len(w), w)
	}
}

func TestImageBumpRollsOutUntilRolloutCompleted(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	r.rollout(v1)
	v2 := r.next(v1, "rev2", "shop/web:v2")

	changes, err := r.p.Diff(r.ctx, v2)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || len(changes[0].Fields) != 1 {
		t.Fatalf("diff = %+v, want one task definition field", changes)
	}
	if f := changes[0].Fields[0]; f.Path != "containerDefinitions[web].image" || f.Live != "shop/web:v1" || f.Desired != "shop/web:v2" {
		t.Errorf("field change = %+v", f)
	}

	if err := r.p.Apply(r.ctx, v2); err != nil {
		t.Fatal(err)
	}
	h, err := r.p.Health(r.ctx, v2)
	if err != nil || h.State != reconcile.HealthProgressing {
		t.Fatalf("health right after apply = %v %v, want progressing", h, err)
	}
	r.sending = true
	if h := r.waitHealth(v2); h.State != reconcile.HealthHealthy || !strings.Contains(h.Reason, "completed") {
		t.Fatalf("health = %+v, want healthy from rolloutState COMPLETED", h)
	}
	if got := r.image(r.live("web")); got != "shop/web:v2" {
		t.Errorf("service runs %s", got)
	}
	if r.errors != 0 {
		t.Errorf("%d of %d requests failed during the rolling update", r.errors, r.sent)
	}
}

func TestCircuitBreakerRollbackIsReportedAsFailed(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	r.rollout(v1)
	r.env.Emu.MarkImageBroken("shop/web:broken")
	bad := r.next(v1, "rev2", "shop/web:broken")
	if err := r.p.Apply(r.ctx, bad); err != nil {
		t.Fatal(err)
	}
	h := r.waitHealth(bad)
	if h.State != reconcile.HealthFailed || !strings.Contains(h.Reason, "circuit breaker") {
		t.Fatalf("health = %+v, want failed with the circuit breaker's reason", h)
	}
	// Once the breaker's rollback completes the failure is still reported.
	r.advance(5 * time.Minute)
	if h, _ := r.p.Health(r.ctx, bad); h.State != reconcile.HealthFailed {
		t.Errorf("after the breaker's rollback: %+v", h)
	}
	if err := r.p.Rollback(r.ctx, bad); err != nil {
		t.Fatal(err)
	}
	if h := r.waitHealth(v1); h.State != reconcile.HealthHealthy {
		t.Errorf("previous revision after rollback: %+v", h)
	}
	if got := r.image(r.live("web")); got != "shop/web:v1" {
		t.Errorf("service runs %s after rollback", got)
	}
	if got := aws.ToString(r.live("web").TaskDefinition); !strings.HasSuffix(got, "/web:1") {
		t.Errorf("rollback runs %s, want the previous revision web:1 reused", got)
	}
}
