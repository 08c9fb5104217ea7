package agent

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	dto "github.com/prometheus/client_model/go"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// stagedFiles is an ECS service at image in two environments of the same
// account, each in the ECS cluster named after it, rolled out in turn;
// production's extra lines (environment fields) are given by gate.
func (x *ecsE2E) stagedFiles(image, gate string) map[string]string {
	r := strings.NewReplacer("IMAGE", image, "REGION", x.env.Region)
	return map[string]string{
		"apps/shop/jibe.yaml": r.Replace(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  artifacts:
    web: {image: IMAGE}
  targets:
    - name: web
      ecs: {taskDefinition: taskdef.yaml, service: service.yaml}
  environments:
    - name: staging
      aws: {account: main, region: REGION}
    - name: production
      aws: {account: main, region: REGION}
`) + gate,
		"apps/shop/taskdef.yaml": x.files(image)["apps/shop/taskdef.yaml"],
		"apps/shop/service.yaml": `serviceName: web
cluster: ${env.name}
desiredCount: 2
launchType: FARGATE
networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-a]}}
`,
	}
}

// held reports whether production's rollout of revision waits at its
// approval gate.
func (x *ecsE2E) held(revision string) func() bool {
	return func() bool {
		r := x.rollout(revision)
		return r != nil && !r.State.Final() && r.Plan.Steps[r.Next].Kind == reconcile.StepAwaitApproval
	}
}

// minutes moves the emulated time (the agent's and the emulator's) on by
// n minutes, a minute at a time, reconciling what comes due each minute.
func (x *ecsE2E) minutes(n int) {
	x.t.Helper()
	for range n {
		x.clock.Step(time.Minute)
		x.env.Emu.Advance(time.Minute)
		x.awaitDue()
		x.drain()
	}
}

// ecsReads returns the emulator's ECS calls that read state, as
// "Operation" strings.
func (x *ecsE2E) ecsReads() []string {
	var out []string
	for _, r := range x.env.Emu.Requests() {
		if r.Service == "ecs" && !awsemu.IsWrite(r.Operation) {
			out = append(out, r.Operation)
		}
	}
	return out
}

// metricValue is the value of the counter name with labels, 0 when it
// was never counted.
func (h *harness) metricValue(name string, labels map[string]string) float64 {
	h.t.Helper()
	families, err := h.agent.metrics.registry.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// A rollout waiting in production (held at its approval gate, which is
// polled every minute) comes back to the queue again and again. These
// requeues neither load the spec again (nor the last good revision that
// a rollback would restore) nor compare staging, which runs the
// revision, with live state: staging is compared again once the drift
// interval has passed since it last was, and the drift found then is
// corrected.
func TestE2EECSRequeueKeepsTheLoadedRevision(t *testing.T) {
	x := newECSE2E(t)
	for _, name := range []string{"staging", "production"} {
		if _, err := x.env.ECS().CreateCluster(t.Context(), &awsecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	x.emu.AddOrg("acme")
	v1 := x.push(x.stagedFiles("registry.example.com/shop/web:1.0.0", ""))
	x.settle("v1 in production", x.ended(v1))
	gate := "      approval:\n        reviews: 1\n        from: {teams: [acme/sre]}\n"
	v2 := x.push(x.stagedFiles("registry.example.com/shop/web:1.1.0", gate))
	x.settle("v2 held in production", x.held(v2))
	if r, _ := x.journal.Current(shopApp, "staging"); r.Revision != v2 || r.State != reconcile.RolloutSucceeded {
		t.Fatalf("staging = %s of %s: %s", r.State, r.Revision, r.Reason)
	}

	// Requeues within the drift interval: the spec is not loaded again,
	// staging is not described.
	loads := func() float64 {
		return x.metricValue("jibe_spec_loads_total", map[string]string{"source": "shop", "app": "shop"})
	}
	waits := func() float64 {
		return x.metricValue("jibe_reconciles_total", map[string]string{"source": "shop", "app": "shop", "outcome": "waiting"})
	}
	x.minutes(1) // the gate's poll after the settle's last reconcile
	x.env.Emu.ResetRequests()
	loaded, waited := loads(), waits()
	x.minutes(3)
	if n := waits() - waited; n < 3 {
		t.Fatalf("production's rollout was reconciled %v times in 3 minutes at its gate; want a poll a minute", n)
	}
	if n := loads() - loaded; n != 0 {
		t.Errorf("requeues of the same revision loaded the spec %v more times; want none", n)
	}
	if reads := x.ecsReads(); len(reads) != 0 {
		t.Errorf("requeues within the drift interval made ECS calls %v; staging runs the revision and was compared with live state minutes ago", reads)
	}
	if !x.held(v2)() {
		t.Fatalf("production's rollout no longer waits at its gate")
	}

	// Someone scales staging's service. Once the drift interval has passed
	// since staging was compared, a requeue compares it again and corrects
	// it: desiredCount goes back to Git's.
	if _, err := x.env.ECS().UpdateService(t.Context(), &awsecs.UpdateServiceInput{Cluster: aws.String("staging"), Service: aws.String("web"),
		DesiredCount: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	x.env.Emu.ResetRequests()
	x.minutes(2) // five minutes and more since staging was compared
	if len(x.ecsReads()) == 0 {
		t.Fatalf("no ECS call once the drift interval had passed: staging was not compared with live state")
	}
	x.settle("staging's drift corrected", func() bool {
		r, err := x.journal.Current(shopApp, "staging")
		return err == nil && r.Correction && r.State.Final()
	})
	if r, _ := x.journal.Current(shopApp, "staging"); r.State != reconcile.RolloutSucceeded || r.Revision != v2 {
		t.Fatalf("staging's correction = %s of %s: %s", r.State, r.Revision, r.Reason)
	}
	out, err := x.env.ECS().DescribeServices(t.Context(), &awsecs.DescribeServicesInput{Cluster: aws.String("staging"), Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 || out.Services[0].DesiredCount != 2 {
		t.Fatalf("staging's service after the correction: %+v, %v; want desiredCount 2", out, err)
	}
	if n := loads() - loaded; n != 0 {
		t.Errorf("the drift check and its correction loaded the spec %v more times; want none", n)
	}
	x.assertLoadedUnchanged()

	// A configuration reload compares staging again at once; only one
	// that changes the spec limits loads the revision again.
	x.env.Emu.ResetRequests()
	x.agent.SetConfig(x.agent.config())
	x.drain()
	if len(x.ecsReads()) == 0 {
		t.Errorf("no ECS call after a configuration reload: staging was not compared with live state")
	}
	if n := loads() - loaded; n != 0 {
		t.Errorf("a reload with the same limits loaded the spec %v more times; want none", n)
	}
	tighter := *x.agent.config()
	tighter.Limits.Environments = 10
	x.agent.SetConfig(&tighter)
	x.drain()
	if n := loads() - loaded; n < 1 {
		t.Errorf("a reload with other spec limits did not load the spec again")
	}
}

// assertLoadedUnchanged checks that the loaded revision kept for
// requeues is as a fresh load of it: no rollout, correction or rollback
// wrote into what they were given.
func (x *ecsE2E) assertLoadedUnchanged() {
	x.t.Helper()
	st := x.agent.state("shop/apps/shop")
	l := st.loaded
	if l == nil {
		x.t.Fatal("no loaded revision kept")
	}
	fresh, err := spec.LoadFS(st.history[l.commit].Files, "apps/shop", spec.WithPlatforms(builtin...))
	if err != nil {
		x.t.Fatal(err)
	}
	for _, env := range fresh.Spec.Environments {
		got, _ := l.app.Render(env.Name)
		want, _ := fresh.Render(env.Name)
		if !reflect.DeepEqual(got, want) {
			x.t.Errorf("the kept rendering of %s changed:\n got %+v\nwant %+v", env.Name, got, want)
		}
	}
}
