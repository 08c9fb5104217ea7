package awsemu_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestAppAutoScalingTargetTrackingKeepsItsAlarmPair(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, as, cw := env.ECS(), env.AppAutoScaling(), env.CloudWatch()
	w := newWeb(t, ctx, env.ELBv2())
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	registerApp(t, ctx, c, "app:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String("app"),
		DesiredCount: aws.Int32(2), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: awsvpc(),
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(w.blue), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}})).on(t)
	resource, dim := aws.String("service/prod/app"), aastypes.ScalableDimensionECSServiceDesiredCount
	need(as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: resource, ScalableDimension: dim,
		MinCapacity: aws.Int32(2), MaxCapacity: aws.Int32(6)})).on(t)
	label := w.lb[strings.Index(w.lb, "loadbalancer/")+len("loadbalancer/"):] + "/" + w.blue[strings.Index(w.blue, "targetgroup/"):]
	put := need(as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("requests"), ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: resource,
		ScalableDimension: dim, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(100),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeALBRequestCountPerTarget, ResourceLabel: aws.String(label)}}})).on(t)
	if len(put.Alarms) != 2 {
		t.Fatalf("PutScalingPolicy alarms = %s, want the high/low pair", jsonOf(t, put.Alarms))
	}
	pol := need(as.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).on(t).ScalingPolicies[0]
	var names []string
	for _, a := range pol.Alarms {
		names = append(names, aws.ToString(a.AlarmName))
	}
	if len(names) != 2 || !strings.HasPrefix(names[0], "TargetTracking-service/prod/app-AlarmHigh-") || !strings.HasPrefix(names[1], "TargetTracking-service/prod/app-AlarmLow-") {
		t.Fatalf("DescribeScalingPolicies alarms = %v, want TargetTracking-service/prod/app-AlarmHigh-… and -AlarmLow-…", names)
	}
	alarms := need(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names})).on(t).MetricAlarms
	if len(alarms) != 2 {
		t.Fatalf("CloudWatch has %d of the policy's alarms, want 2", len(alarms))
	}
	for _, a := range alarms {
		high := strings.Contains(aws.ToString(a.AlarmName), "AlarmHigh")
		if aws.ToString(a.MetricName) != "RequestCountPerTarget" || aws.ToString(a.Namespace) != "AWS/ApplicationELB" ||
			high && (a.ComparisonOperator != cwtypes.ComparisonOperatorGreaterThanThreshold || aws.ToFloat64(a.Threshold) != 100 || aws.ToInt32(a.EvaluationPeriods) != 3) ||
			!high && (a.ComparisonOperator != cwtypes.ComparisonOperatorLessThanThreshold || aws.ToFloat64(a.Threshold) != 90 || aws.ToInt32(a.EvaluationPeriods) != 15) {
			t.Errorf("alarm %s", jsonOf(t, a))
		}
	}
	need(as.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{PolicyName: aws.String("requests"), ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: resource, ScalableDimension: dim})).on(t)
	if left := need(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-")})).on(t).MetricAlarms; len(left) != 0 {
		t.Errorf("deleting the policy left %d TargetTracking alarms", len(left))
	}
}
