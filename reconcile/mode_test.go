package reconcile_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/providers/aws/asg"
	"github.com/jibe-dev/jibe/providers/aws/ecs"
	"github.com/jibe-dev/jibe/providers/aws/lambda"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// platforms are the platforms a Jibe built from this repository deploys
// to, as cmd/jibe wires them.
var platforms = spec.Platforms{ecs.Capabilities, lambda.Capabilities, kubernetes.Capabilities, asg.Capabilities}

// builtin loads specs against platforms.
var builtin = spec.WithPlatforms(platforms...)

// rendered is env deploying target web of platform p, declared as this
// repository's Jibe declares it.
func rendered(env *spec.Environment, p spec.Platform) *spec.Rendered {
	t := &spec.Target{Name: "web"}
	switch p {
	case spec.PlatformECS:
		t.ECS = &spec.ECSTarget{}
	case spec.PlatformKubernetes:
		t.Kubernetes = &spec.KubernetesTarget{}
	case spec.PlatformAutoScalingGroup:
		t.AutoScalingGroup = &spec.AutoScalingGroupTarget{}
	case spec.PlatformLambda:
		t.Lambda = &spec.LambdaTarget{}
	}
	return &spec.Rendered{Environment: env, Targets: []*spec.RenderedTarget{{Target: t}},
		Platforms: platforms}
}

// The plan carries the mode its steps run in, from the strategy and what
// the target's platform declares.
func TestPlanMode(t *testing.T) {
	weight := spec.Percent(20)
	canary := &spec.Strategy{Canary: &spec.Canary{Steps: []spec.CanaryStep{{SetWeight: &weight}}}}
	blueGreen := &spec.Strategy{BlueGreen: &spec.BlueGreen{}}
	for _, tc := range []struct {
		name     string
		strategy *spec.Strategy
		platform spec.Platform
		actions  []reconcile.Action
		mode     spec.StrategyKind
		first    bool
		steps    string
	}{
		{"rolling update", nil, spec.PlatformECS, []reconcile.Action{reconcile.ActionUpdate},
			spec.StrategyRolling, false, "apply wait-healthy promote"},
		{"rolling first deploy", nil, spec.PlatformKubernetes, []reconcile.Action{reconcile.ActionCreate},
			spec.StrategyRolling, false, "apply wait-healthy promote"},
		{"canary update", canary, spec.PlatformECS, []reconcile.Action{reconcile.ActionUpdate},
			spec.StrategyCanary, false, "apply wait-healthy shift-traffic shift-traffic promote cleanup"},
		{"canary first deploy", canary, spec.PlatformECS, []reconcile.Action{reconcile.ActionCreate, reconcile.ActionCreate},
			spec.StrategyRolling, true, "apply wait-healthy promote"},
		{"canary beside a created resource", canary, spec.PlatformKubernetes, []reconcile.Action{reconcile.ActionCreate, reconcile.ActionUpdate},
			spec.StrategyCanary, false, "apply wait-healthy shift-traffic shift-traffic promote cleanup"},
		{"blue/green first deploy", blueGreen, spec.PlatformKubernetes, []reconcile.Action{reconcile.ActionCreate},
			spec.StrategyRolling, true, "apply wait-healthy promote"},
		{"blue/green update", blueGreen, spec.PlatformKubernetes, []reconcile.Action{reconcile.ActionReplace},
			spec.StrategyBlueGreen, false, "apply wait-healthy shift-traffic promote cleanup"},
		{"Auto Scaling group blue/green, first deploy", blueGreen, spec.PlatformAutoScalingGroup, []reconcile.Action{reconcile.ActionCreate},
			spec.StrategyRolling, true, "apply wait-healthy promote"},
		{"in sync", canary, spec.PlatformECS, nil, spec.StrategyCanary, false, ""},
		{"undeclared platform", canary, spec.PlatformUnknown, []reconcile.Action{reconcile.ActionCreate},
			spec.StrategyCanary, false, "apply wait-healthy shift-traffic shift-traffic promote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var changes []reconcile.Change
			for _, a := range tc.actions {
				changes = append(changes, reconcile.Change{Target: "web", Resource: "x", Action: a})
			}
			env := &spec.Environment{Name: "production", Strategy: tc.strategy}
			p := reconcile.Build("shop", "abc", []reconcile.EnvInput{{Rendered: rendered(env, tc.platform), Changes: changes}}).Environments[0]
			var kinds []string
			for _, s := range p.Steps {
				kinds = append(kinds, s.Kind.String())
			}
			if p.Mode != tc.mode || p.FirstDeploy != tc.first || strings.Join(kinds, " ") != tc.steps {
				t.Errorf("mode %s, first deploy %v, steps %q; want %s, %v, %q", p.Mode, p.FirstDeploy, strings.Join(kinds, " "), tc.mode, tc.first, tc.steps)
			}
		})
	}
}

// A plan journaled before plans carried their mode reads with the mode it
// ran in; the mode is written by name and read back.
func TestPlanModeFromOldJournal(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       spec.StrategyKind
	}{
		{"canary", `{"name":"production","strategy":"canary"}`, spec.StrategyCanary},
		{"first deploy of a canary", `{"name":"production","strategy":"canary","firstDeploy":true}`, spec.StrategyRolling},
		{"blue/green", `{"name":"production","strategy":"blueGreen"}`, spec.StrategyBlueGreen},
		{"rolling", `{"name":"production","strategy":"rolling"}`, spec.StrategyRolling},
		{"with a mode", `{"name":"production","strategy":"canary","mode":"rolling","firstDeploy":true}`, spec.StrategyRolling},
		{"unknown strategy", `{"name":"production","strategy":"rainbow"}`, spec.StrategyUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p reconcile.EnvPlan
			if err := json.Unmarshal([]byte(tc.json), &p); err != nil {
				t.Fatal(err)
			}
			if p.Mode != tc.want {
				t.Errorf("mode %s, want %s", p.Mode, tc.want)
			}
			if tc.want == spec.StrategyUnknown {
				return
			}
			b, _ := json.Marshal(&p)
			if !strings.Contains(string(b), `"mode":"`+tc.want.String()+`"`) {
				t.Errorf("written as %s", b)
			}
		})
	}
	var p reconcile.EnvPlan
	if err := json.Unmarshal([]byte(`{"name":"production","strategy":"canary","mode":"sideways"}`), &p); err == nil {
		t.Error("an unknown mode must not read")
	}
}
