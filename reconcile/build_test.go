package reconcile_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

var update = flag.Bool("update", false, "rewrite golden plans")

func inputs(t *testing.T, dir string, changes map[string][]reconcile.Change) (*spec.App, []reconcile.EnvInput) {
	t.Helper()
	app, err := spec.Load(dir, builtin)
	if err != nil {
		t.Fatal(err)
	}
	var envs []reconcile.EnvInput
	for _, e := range app.Spec.Environments {
		r, err := app.Render(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, reconcile.EnvInput{Rendered: r, Changes: changes[e.Name]})
	}
	return app, envs
}

func imageBump(env string) []reconcile.Change {
	return []reconcile.Change{{
		Target: "web", Resource: "ECS task definition checkout-" + env, Action: reconcile.ActionUpdate,
		Fields: []reconcile.FieldChange{{
			Path:    "containerDefinitions[0].image",
			Live:    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-web:1.4.1",
			Desired: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-web:1.4.2",
		}},
	}}
}

// Plans are golden: each case's text and JSON are in testdata/plans.
func TestBuildGoldenPlans(t *testing.T) {
	tests := []struct {
		name, dir string
		changes   map[string][]reconcile.Change
	}{
		{"ecs-canary", "../examples/ecs-web", map[string][]reconcile.Change{"staging": imageBump("staging"), "production": imageBump("production")}},
		{"ecs-staging-only", "../examples/ecs-web", map[string][]reconcile.Change{"staging": imageBump("staging")}},
		{"lambda-canary", "../examples/lambda-api", map[string][]reconcile.Change{
			"production": {{Target: "api", Resource: "Lambda function orders-api-production", Action: reconcile.ActionUpdate,
				Fields: []reconcile.FieldChange{{Path: "Code.S3Key", Live: "orders-api/orders-api-2.6.0.zip", Desired: "orders-api/orders-api-2.7.0.zip"}}}},
		}},
		{"kubernetes-create", "../examples/k8s-guestbook", map[string][]reconcile.Change{
			"staging": {
				{Target: "frontend", Resource: "apps/v1 Deployment guestbook-staging/frontend", Action: reconcile.ActionCreate},
				{Target: "frontend", Resource: "v1 Service guestbook-staging/frontend", Action: reconcile.ActionCreate},
				{Target: "frontend", Resource: "v1 ConfigMap guestbook-staging/old", Action: reconcile.ActionDelete, Reason: "no longer in Git"},
			},
		}},
		{"blue-green", "testdata/apps/blue-green", map[string][]reconcile.Change{
			"production": {{Target: "api", Resource: "apps/v1 Deployment api/api", Action: reconcile.ActionReplace, Reason: "spec.selector cannot be changed in place",
				Fields: []reconcile.FieldChange{{Path: "spec.selector.matchLabels.app", Live: "api-v1", Desired: "api"}}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, envs := inputs(t, tt.dir, tt.changes)
			p := reconcile.Build(app.Metadata.Name, "4f2c9a1b7e3d5c6a8b9f0e1d2c3b4a5f6e7d8c9b", envs)
			var text bytes.Buffer
			p.Format(&text)
			js, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata/plans", tt.name+".txt"), text.Bytes())
			golden(t, filepath.Join("testdata/plans", tt.name+".json"), append(js, '\n'))
		})
	}
}

// An environment without changes is in sync: its plan has no step, so
// executing it makes no write call.
func TestBuildInSyncHasNoSteps(t *testing.T) {
	app, envs := inputs(t, "../examples/ecs-web", nil)
	p := reconcile.Build(app.Metadata.Name, "abc", envs)
	for _, e := range p.Environments {
		if !e.InSync() || len(e.Steps) != 0 {
			t.Errorf("%s: in sync = %v, steps = %v", e.Name, e.InSync(), e.Steps)
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reconcile -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./reconcile -update and review the diff):\n%s", path, got)
	}
}

// A canary environment where nothing runs yet rolls out at once: there is
// no stable version to shift traffic from, and an analysis of the canary
// would have no data. Its verify checks still run.
func TestFirstDeployOfACanaryRollsOutAtOnce(t *testing.T) {
	weight := spec.Percent(20)
	env := &spec.Environment{Name: "production",
		Strategy: &spec.Strategy{Canary: &spec.Canary{Steps: []spec.CanaryStep{{SetWeight: &weight}}}},
		Verify:   []spec.Check{{Name: "healthz"}}}
	in := func(actions ...reconcile.Action) []reconcile.EnvInput {
		var changes []reconcile.Change
		for _, a := range actions {
			changes = append(changes, reconcile.Change{Target: "web", Resource: "service web", Action: a})
		}
		return []reconcile.EnvInput{{Rendered: rendered(env, spec.PlatformECS), Changes: changes}}
	}

	first := reconcile.Build("shop", "abc", in(reconcile.ActionCreate, reconcile.ActionCreate)).Environments[0]
	var kinds []string
	for _, s := range first.Steps {
		kinds = append(kinds, s.Kind.String())
	}
	if !first.FirstDeploy || strings.Join(kinds, " ") != "apply wait-healthy promote verify" {
		t.Errorf("first deploy: firstDeploy=%v steps %v", first.FirstDeploy, kinds)
	}
	next := reconcile.Build("shop", "def", in(reconcile.ActionUpdate)).Environments[0]
	if next.FirstDeploy || next.Steps[2].Kind != reconcile.StepShiftTraffic {
		t.Errorf("a later deploy must run the canary: firstDeploy=%v steps %+v", next.FirstDeploy, next.Steps)
	}
}

// A rolling environment with steps on an Auto Scaling group stops its
// instance refresh at each setWeight (a checkpoint step, which the plan
// shows as such), runs the steps there, goes on to 100 and then waits
// for health; its first deploy has nothing to replace and no steps.
func TestRollingCheckpointsPlanned(t *testing.T) {
	w := spec.Percent(25)
	env := &spec.Environment{Name: "production", Strategy: &spec.Strategy{Rolling: &spec.Rolling{Steps: []spec.CanaryStep{{SetWeight: &w},
		{Pause: &spec.Pause{Duration: spec.Duration{Duration: time.Minute}}}, {Analysis: &spec.Analysis{Checks: []spec.Check{{Name: "5xx"}}}}}}}}
	in := func(a reconcile.Action) []reconcile.EnvInput {
		return []reconcile.EnvInput{{Rendered: rendered(env, spec.PlatformAutoScalingGroup), Changes: []reconcile.Change{{Target: "web", Resource: "group web", Action: a}}}}
	}
	kinds := func(ep reconcile.EnvPlan) string {
		var out []string
		for _, s := range ep.Steps {
			out = append(out, s.Kind.String())
		}
		return strings.Join(out, " ")
	}
	if ep := reconcile.Build("shop", "abc", in(reconcile.ActionCreate)).Environments[0]; kinds(ep) != "apply wait-healthy promote" {
		t.Errorf("first deploy: %s", kinds(ep))
	}
	p := reconcile.Build("shop", "def", in(reconcile.ActionUpdate))
	ep := p.Environments[0]
	if kinds(ep) != "apply shift-traffic pause verify shift-traffic wait-healthy promote" || !ep.Steps[1].Checkpoint || ep.Steps[4].Weight != 100 || !ep.Steps[4].Checkpoint {
		t.Fatalf("steps: %s %+v", kinds(ep), ep.Steps)
	}
	var b bytes.Buffer
	p.Format(&b)
	if !strings.Contains(b.String(), "shift-traffic web to 25% of instances (instance refresh checkpoint)") {
		t.Errorf("plan text does not show the checkpoint:\n%s", b.String())
	}
}
