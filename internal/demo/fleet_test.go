package demo

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/spec"
)

// fleet's jibe.yaml loads at every release, with the demo's variables,
// as the red/black group of an AMI.
func TestFleetSpecLoads(t *testing.T) {
	vars := map[string]string{"subnets": "subnet-1", "fleetTargetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/fleet/1"}
	for version, ami := range fleetAMIs {
		fsys := fstest.MapFS{"jibe.yaml": {Data: []byte(fleetSpec(version, vars))}, "user-data.sh": {Data: []byte(fleetUserData)}}
		app, err := spec.LoadFS(fsys, fleetName)
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		g := app.Spec.Targets[0].AutoScalingGroup
		if g == nil || !strings.Contains(fleetSpec(version, vars), ami) || app.Spec.Environments[0].Strategy.BlueGreen == nil {
			t.Errorf("%s: %+v", version, app.Spec)
		}
	}
}
