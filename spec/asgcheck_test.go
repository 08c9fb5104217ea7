package spec_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jibe-dev/jibe/spec"
)

// asgApp is an application with one Auto Scaling group target; extra is
// indented under autoScalingGroup.
func asgApp(extra string) fstest.MapFS {
	return fstest.MapFS{"jibe.yaml": {Data: []byte(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: vms}
spec:
  targets:
    - name: web
      autoScalingGroup:
        name: web
        launchTemplate:
          imageId: ami-0123456789abcdef0
          instanceType: t3.small
          metadataOptions: {httpTokens: required, httpPutResponseHopLimit: 2}
          blockDeviceMappings:
            - deviceName: /dev/xvda
              ebs: {volumeSize: 20, volumeType: gp3, throughput: 125, encrypted: true}
        minSize: 1
        maxSize: 3
        subnets: [subnet-1]
        terminationPolicies: [OldestLaunchTemplate, Default]
` + extra + `  environments:
    - name: staging
      aws: {account: staging, region: eu-west-1}
`)}}
}

// TestAutoScalingGroupExtrasLoadWithDefaults: volumes, metadata options,
// termination policies, scheduled actions and lifecycle hooks load, and
// hooks get AWS's defaults (1h, ABANDON).
func TestAutoScalingGroupExtrasLoadWithDefaults(t *testing.T) {
	app, err := spec.LoadFS(asgApp(`        scheduledActions:
          - {name: morning, recurrence: "0 8 * * 1-5", timeZone: Europe/Paris, minSize: 2}
        lifecycleHooks:
          - {name: warm, transition: launching}
        mixedInstancesPolicy:
          overrides: [{instanceType: m5.large, weightedCapacity: 1}, {instanceType: m5.xlarge, weightedCapacity: 2}]
          instancesDistribution: {onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 25, spotAllocationStrategy: price-capacity-optimized}
        warmPool: {minSize: 1, poolState: Hibernated, reuseOnScaleIn: true}
        scalingPolicies:
          - name: orders
            predictiveScaling:
              targetValue: 100
              customizedLoadMetric: {namespace: Shop, name: Orders, statistic: Sum}
              customizedScalingMetric: {namespace: Shop, name: OrdersPerInstance, statistic: Average}
`), "vms", spec.WithPlatforms(asgCaps))
	if err != nil {
		t.Fatal(err)
	}
	g := app.Spec.Targets[0].AutoScalingGroup
	if h := g.LifecycleHooks[0]; h.HeartbeatTimeout.Duration != time.Hour || h.DefaultResult != "ABANDON" {
		t.Errorf("hook defaults: %+v", h)
	}
	if ps := g.ScalingPolicies[0].PredictiveScaling; ps == nil || ps.CustomizedLoadMetric.Period == nil {
		t.Errorf("predictive policy: %+v", ps)
	}
	if m := g.MixedInstancesPolicy; len(m.Overrides) != 2 || *m.InstancesDistribution.OnDemandBaseCapacity != 1 || g.WarmPool.PoolState != "Hibernated" {
		t.Errorf("mixed instances %+v, warm pool %+v", m, g.WarmPool)
	}
	if g.LaunchTemplate.BlockDeviceMappings[0].EBS.VolumeSize != 20 || g.LaunchTemplate.MetadataOptions.HTTPTokens != "required" || len(g.TerminationPolicies) != 2 {
		t.Errorf("loaded %+v", g)
	}
}

// TestAutoScalingGroupExtrasRefused: each wrong declaration is one
// problem at its field, saying what to do.
func TestAutoScalingGroupExtrasRefused(t *testing.T) {
	for _, c := range []struct{ extra, field, want string }{
		{"        scheduledActions:\n          - {name: a, minSize: 1}\n", "scheduledActions[0]", "set recurrence (cron), startTime"},
		{"        scheduledActions:\n          - {name: a, recurrence: \"0 8 * *\", minSize: 1}\n", "scheduledActions[0].recurrence", "five fields"},
		{"        scheduledActions:\n          - {name: a, startTime: tomorrow, minSize: 1}\n", "scheduledActions[0].startTime", "RFC 3339"},
		{"        scheduledActions:\n          - {name: a, recurrence: \"0 8 * * *\"}\n", "scheduledActions[0]", "at least one of minSize"},
		{"        scheduledActions:\n          - {name: a, recurrence: \"0 8 * * *\", timeZone: Mars/Base, minSize: 1}\n", "scheduledActions[0].timeZone", "unknown time zone"},
		{"        lifecycleHooks:\n          - {name: a, transition: launching}\n          - {name: a, transition: terminating}\n", "lifecycleHooks[1].name", "used twice"},
		{"        lifecycleHooks:\n          - {name: a, transition: launching, heartbeatTimeout: 10s}\n", "lifecycleHooks[0].heartbeatTimeout", "outside 30s to 2h"},
		{"        lifecycleHooks:\n          - {name: a, transition: launching, roleArn: arn:aws:iam::1:role/x}\n", "lifecycleHooks[0].roleArn", "together"},
		{"        lifecycleHooks:\n          - {name: a, transition: booting}\n", "lifecycleHooks[0].transition", ""},
		{"        mixedInstancesPolicy:\n          overrides: [{instanceType: m5.large}, {instanceType: m5.large}]\n", "mixedInstancesPolicy.overrides[1].instanceType", "overridden twice"},
		{"        mixedInstancesPolicy:\n          overrides: [{instanceType: m5.large, weightedCapacity: 1}, {instanceType: m5.xlarge}]\n", "mixedInstancesPolicy.overrides", "every override or on none"},
		{"        mixedInstancesPolicy:\n          overrides: [{instanceType: m5.large}]\n          instancesDistribution: {spotAllocationStrategy: capacity-optimized, spotInstancePools: 3}\n", "mixedInstancesPolicy.instancesDistribution.spotInstancePools", "lowest-price"},
		{"        mixedInstancesPolicy:\n          overrides: []\n", "mixedInstancesPolicy.overrides", ""},
		{"        warmPool: {maxGroupPreparedCapacity: 0}\n", "warmPool.maxGroupPreparedCapacity", "below the group's minSize"},
		{"        warmPool: {minSize: 3, maxGroupPreparedCapacity: 2}\n", "warmPool.minSize", "above its maxGroupPreparedCapacity"},
		{"        warmPool: {poolState: Frozen}\n", "warmPool.poolState", ""},
		{"        scalingPolicies:\n          - {name: f, predictiveScaling: {targetValue: 50}}\n", "scalingPolicies[0].predictiveScaling", "exactly one of predefinedMetricPair"},
		{"        scalingPolicies:\n          - {name: f, predictiveScaling: {targetValue: 50, predefinedMetricPair: ASGCPUUtilization, predefinedLoadMetric: ASGTotalCPUUtilization}}\n", "scalingPolicies[0].predictiveScaling", "exactly one of predefinedMetricPair"},
		{"        scalingPolicies:\n          - {name: f, predictiveScaling: {targetValue: 50, predefinedLoadMetric: ASGTotalCPUUtilization}}\n", "scalingPolicies[0].predictiveScaling", "together"},
		{"        scalingPolicies:\n          - {name: f, predictiveScaling: {targetValue: 50, predefinedMetricPair: ALBRequestCount}}\n", "scalingPolicies[0].predictiveScaling.resourceLabel", "resourceLabel"},
		{"        scalingPolicies:\n          - {name: f, predictiveScaling: {targetValue: 50, predefinedMetricPair: ASGCPUUtilization, schedulingBufferTime: 2h}}\n", "scalingPolicies[0].predictiveScaling.schedulingBufferTime", "outside 0 to 1h"},
		{"        scalingPolicies:\n          - {name: f, predictiveScaling: {targetValue: 50, predefinedMetricPair: ASGCPUUtilization, maxCapacityBuffer: 10}}\n", "scalingPolicies[0].predictiveScaling.maxCapacityBuffer", "IncreaseMaxCapacity only"},
		{"        scalingPolicies:\n          - {name: f, predictiveScaling: {targetValue: 50, predefinedMetricPair: ASGCPUUtilization, maxCapacityBreachBehavior: IncreaseMaxCapacity}}\n", "scalingPolicies[0].predictiveScaling.maxCapacityBuffer", "needs maxCapacityBuffer"},
		{"        scalingPolicies:\n          - {name: f, targetTracking: {targetValue: 50, predefinedMetric: ASGAverageCPUUtilization}, predictiveScaling: {targetValue: 50, predefinedMetricPair: ASGCPUUtilization}}\n", "scalingPolicies[0]", "exactly one of targetTracking, stepScaling and predictiveScaling"},
	} {
		_, err := spec.LoadFS(asgApp(c.extra), "vms", spec.WithPlatforms(asgCaps))
		var le *spec.LoadError
		if !errors.As(err, &le) || len(le.Problems) != 1 || !strings.Contains(le.Problems[0].Error(), "autoScalingGroup."+c.field) ||
			!strings.Contains(le.Problems[0].Error(), c.want) {
			t.Errorf("%s: got %v", c.field, err)
		}
	}
}

// asgStrategy is asgApp whose environment has the strategy (YAML
// indented under strategy).
func asgStrategy(strategy string) fstest.MapFS {
	fs := asgApp("")
	fs["jibe.yaml"].Data = []byte(strings.Replace(string(fs["jibe.yaml"].Data), "      aws: {account: staging, region: eu-west-1}\n",
		"      aws: {account: staging, region: eu-west-1}\n      strategy:\n"+strategy, 1))
	return fs
}

// TestRollingCheckpointStepsLoad: a rolling strategy's steps load with
// the canary steps' defaults.
func TestRollingCheckpointStepsLoad(t *testing.T) {
	app, err := spec.LoadFS(asgStrategy(`        rolling:
          steps:
            - setWeight: 25
            - pause: {duration: 5m}
            - setWeight: 50
`), "vms", spec.WithPlatforms(asgCaps))
	if err != nil {
		t.Fatal(err)
	}
	s := app.Spec.Environments[0].Strategy
	if len(s.Steps()) != 3 || *s.Steps()[2].SetWeight != 50 || s.StepsField() != "strategy.rolling.steps" {
		t.Errorf("rolling steps: %+v", s.Rolling)
	}
}

// TestRollingCheckpointStepsRefused: rolling steps are checked as a
// canary's, checkpoints are whole percentages up to 100, and a platform
// whose rolling update has no checkpoints refuses them.
func TestRollingCheckpointStepsRefused(t *testing.T) {
	noCheckpoints := asgCaps
	noCheckpoints.Checkpoints = false
	for _, c := range []struct {
		steps, field, want string
		caps               spec.Capabilities
	}{
		{"            - setWeight: 50\n            - setWeight: 25\n", "rolling.steps[1].setWeight", "does not increase", asgCaps},
		{"            - setWeight: 120\n", "rolling.steps[0].setWeight", "from 0 to 100", asgCaps},
		{"            - setWeight: 12.5\n", "rolling.steps[0].setWeight", "whole percentage", asgCaps},
		{"            - setWeight: 50\n", "rolling.steps", "cannot stop at checkpoints", noCheckpoints},
	} {
		_, err := spec.LoadFS(asgStrategy("        rolling:\n          steps:\n"+c.steps), "vms", spec.WithPlatforms(c.caps))
		var le *spec.LoadError
		if !errors.As(err, &le) || len(le.Problems) != 1 || !strings.Contains(le.Problems[0].Error(), "strategy."+c.field) ||
			!strings.Contains(le.Problems[0].Error(), c.want) {
			t.Errorf("%s: got %v", c.field, err)
		}
	}
}
