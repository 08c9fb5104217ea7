package spec_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
)

// What each declaration supports, and the mode a rollout runs in.
func TestCapabilities(t *testing.T) {
	for _, tc := range []struct {
		name     string
		c        *spec.Capabilities
		kind     spec.StrategyKind
		first    bool
		supports bool
		shifts   bool
		mode     spec.StrategyKind
	}{
		{"ECS rolling", &ecsCaps, spec.StrategyRolling, false, true, false, spec.StrategyRolling},
		{"ECS canary", &ecsCaps, spec.StrategyCanary, false, true, true, spec.StrategyCanary},
		{"ECS canary, first deploy", &ecsCaps, spec.StrategyCanary, true, true, true, spec.StrategyRolling},
		{"ECS blue/green, first deploy", &ecsCaps, spec.StrategyBlueGreen, true, true, true, spec.StrategyRolling},
		{"ECS rolling, first deploy", &ecsCaps, spec.StrategyRolling, true, true, false, spec.StrategyRolling},
		{"Kubernetes blue/green", &kubeCaps, spec.StrategyBlueGreen, false, true, true, spec.StrategyBlueGreen},
		{"Kubernetes canary, first deploy", &kubeCaps, spec.StrategyCanary, true, true, true, spec.StrategyRolling},
		{"Auto Scaling group canary", &asgCaps, spec.StrategyCanary, false, true, true, spec.StrategyCanary},
		{"Auto Scaling group blue/green, first deploy", &asgCaps, spec.StrategyBlueGreen, true, true, true, spec.StrategyRolling},
		{"Lambda canary", &lambdaCaps, spec.StrategyCanary, false, true, true, spec.StrategyCanary},
		{"undeclared platform", nil, spec.StrategyCanary, true, false, false, spec.StrategyCanary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.c != nil && tc.c.Supports(tc.kind) != tc.supports {
				t.Errorf("Supports(%s) = %v, want %v", tc.kind, !tc.supports, tc.supports)
			}
			if got := tc.c.Shifts(tc.kind); got != tc.shifts {
				t.Errorf("Shifts(%s) = %v, want %v", tc.kind, got, tc.shifts)
			}
			if got := tc.c.Mode(tc.kind, tc.first); got != tc.mode {
				t.Errorf("Mode(%s, first deploy %v) = %s, want %s", tc.kind, tc.first, got, tc.mode)
			}
		})
	}
}

// A target's platform must be declared: an undeclared one is refused, and
// without WithPlatforms nothing is checked.
func TestTargetPlatformDeclared(t *testing.T) {
	for _, tc := range []struct {
		name     string
		targets  string
		opts     []spec.Option
		errs     []string
		warnings []string
	}{
		{"undeclared", "[web, site]", []spec.Option{spec.WithPlatforms(ecsCaps)}, []string{
			`app/jibe.yaml:26:9: spec.targets[1].kubernetes: target "site": this Jibe cannot deploy kubernetes targets; remove the target, or run a Jibe release whose platforms include kubernetes`,
			`app/jibe.yaml:29:9: spec.targets[2].lambda: target "fn": this Jibe cannot deploy lambda targets; remove the target, or run a Jibe release whose platforms include lambda`,
			`app/jibe.yaml:32:9: spec.targets[3].autoScalingGroup: target "vms": this Jibe cannot deploy autoScalingGroup targets; remove the target, or run a Jibe release whose platforms include autoScalingGroup`,
		}, nil},
		{"unchecked", "[web, site]", nil, nil, nil},
		{"ECS canary without traffic, unchecked", "[web]", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, content := range baseFiles {
				fsys[name] = &fstest.MapFile{Data: []byte(content)}
			}
			spec := strings.Replace(baseFiles["jibe.yaml"], "targets: [web, site, fn]", "targets: "+tc.targets, 1)
			if strings.Contains(tc.name, "without traffic") {
				spec = strings.Replace(spec, "        traffic:\n          listenerArn: arn:listener\n          stableTargetGroupArn: arn:tg/blue\n          canaryTargetGroupArn: arn:tg/green\n", "", 1)
			}
			fsys["jibe.yaml"] = &fstest.MapFile{Data: []byte(spec)}
			app, err := load(fsys, tc.opts...)
			if got := lines(strictyaml.AsList(err)); !equal(got, tc.errs) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.errs, "\n"))
			}
			if app == nil {
				return
			}
			if got := lines(app.Warnings); !equal(got, tc.warnings) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.warnings, "\n"))
			}
		})
	}
}

func load(fsys fstest.MapFS, opts ...spec.Option) (*spec.App, error) {
	return spec.LoadFS(fsys, "app", opts...)
}

func lines(l strictyaml.ErrorList) []string {
	var out []string
	for _, e := range l {
		out = append(out, e.Error())
	}
	return out
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}
