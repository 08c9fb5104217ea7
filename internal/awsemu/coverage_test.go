package awsemu_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

// The tests in this file cover the remaining operations of each service:
// the lifecycle and housekeeping calls the scenario tests do not need.

func TestECSStopTaskIsReplacedByTheScheduler(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{})).on(t)
	registerApp(t, ctx, c, "app:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{NetworkConfiguration: awsvpc(), LaunchType: ecstypes.LaunchTypeFargate, ServiceName: aws.String("app"), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(1)})).on(t)
	waitStable(t, ctx, env, c, "default", "app")
	arn := need(c.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("app")})).on(t).TaskArns[0]
	stopped := need(c.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String(arn), Reason: aws.String("test")})).on(t).Task
	if aws.ToString(stopped.DesiredStatus) != "STOPPED" || stopped.StopCode != ecstypes.TaskStopCodeUserInitiated {
		t.Errorf("stopped task %s", jsonOf(t, stopped))
	}
	tasksStopped := ecs.NewTasksStoppedWaiter(c, func(o *ecs.TasksStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(2*time.Second))
	})
	if err := tasksStopped.Wait(ctx, &ecs.DescribeTasksInput{Tasks: []string{arn}}, time.Minute); err != nil {
		t.Fatalf("TasksStopped: %v", err)
	}
	waitStable(t, ctx, env, c, "default", "app")
	running := need(c.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("app")})).on(t).TaskArns
	if len(running) != 1 || running[0] == arn {
		t.Fatalf("running tasks after StopTask: %v", running)
	}
	tasksRunning := ecs.NewTasksRunningWaiter(c, func(o *ecs.TasksRunningWaiterOptions) { o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond })
	if err := tasksRunning.Wait(ctx, &ecs.DescribeTasksInput{Tasks: running}, time.Minute); err != nil {
		t.Errorf("TasksRunning: %v", err)
	}
	need(c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("app"), DesiredCount: aws.Int32(0)})).on(t)
	need(c.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("app")})).on(t)
	inactive := ecs.NewServicesInactiveWaiter(c, func(o *ecs.ServicesInactiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(5*time.Second))
	})
	if err := inactive.Wait(ctx, &ecs.DescribeServicesInput{Services: []string{"app"}}, time.Minute); err != nil {
		t.Errorf("ServicesInactive: %v", err)
	}
}

func TestELBv2HousekeepingOperations(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ELBv2()
	w := newWeb(t, ctx, c)
	attrs := need(c.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(w.lb),
		Attributes: []elbtypes.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("120")}}})).on(t).Attributes
	got := need(c.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(w.lb)})).on(t).Attributes
	if len(attrs) != len(got) || !hasAttr(got, "idle_timeout.timeout_seconds", "120") {
		t.Errorf("load balancer attributes %s", jsonOf(t, got))
	}
	tga := need(c.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(w.blue)})).on(t).Attributes
	if !hasAttr(tga, "deregistration_delay.timeout_seconds", "30") {
		t.Errorf("target group attributes %s", jsonOf(t, tga))
	}
	tg := need(c.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: aws.String(w.green), HealthCheckPath: aws.String("/healthz"), HealthyThresholdCount: aws.Int32(3)})).on(t).TargetGroups[0]
	if aws.ToString(tg.HealthCheckPath) != "/healthz" || aws.ToInt32(tg.HealthyThresholdCount) != 3 {
		t.Errorf("modified target group %s", jsonOf(t, tg))
	}
	need(c.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{w.blue}, Tags: []elbtypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}})).on(t)
	need(c.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{w.blue}, TagKeys: []string{"a"}})).on(t)
	tags := need(c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{w.blue}})).on(t).TagDescriptions[0].Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "b" {
		t.Errorf("tags %s", jsonOf(t, tags))
	}
	cond := []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/a"}}}
	r1 := need(c.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(w.listener), Priority: aws.Int32(1), Conditions: cond, Actions: forward(map[string]int32{w.blue: 1}, w.blue)})).on(t).Rules[0]
	moved := need(c.SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []elbtypes.RulePriorityPair{{RuleArn: r1.RuleArn, Priority: aws.Int32(7)}}})).on(t).Rules
	if aws.ToString(moved[0].Priority) != "7" {
		t.Errorf("priority %s", aws.ToString(moved[0].Priority))
	}
	need(c.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(w.listener)})).on(t)
	need(c.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(w.green)})).on(t)
	need(c.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(w.lb)})).on(t)
	deleted := elbv2.NewLoadBalancersDeletedWaiter(c, func(o *elbv2.LoadBalancersDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
	})
	if err := deleted.Wait(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{w.lb}}, time.Minute); err != nil {
		t.Errorf("LoadBalancersDeleted: %v", err)
	}
	if n := len(need(c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})).on(t).TargetGroups); n != 1 {
		t.Errorf("%d target groups left, want blue", n)
	}
}

func hasAttr[T interface {
	elbtypes.LoadBalancerAttribute | elbtypes.TargetGroupAttribute
}](attrs []T, k, v string) bool {
	for _, a := range attrs {
		var key, val *string
		switch x := any(a).(type) {
		case elbtypes.LoadBalancerAttribute:
			key, val = x.Key, x.Value
		case elbtypes.TargetGroupAttribute:
			key, val = x.Key, x.Value
		}
		if aws.ToString(key) == k && aws.ToString(val) == v {
			return true
		}
	}
	return false
}

func TestLambdaAliasLifecycle(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	createFunction(t, ctx, c, "api")
	waitActive(t, env, c, "api")
	need(c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("api"), Name: aws.String("dev"), FunctionVersion: aws.String("$LATEST"), Description: aws.String("tip")})).on(t)
	a := need(c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("api"), Name: aws.String("dev")})).on(t)
	if aws.ToString(a.FunctionVersion) != "$LATEST" || aws.ToString(a.Description) != "tip" {
		t.Errorf("alias %s", jsonOf(t, a))
	}
	out := need(c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("api"), Qualifier: aws.String("dev"), Payload: []byte(`"ping"`),
		InvocationType: lambdatypes.InvocationTypeEvent})).on(t)
	if out.StatusCode != 202 {
		t.Errorf("async invoke status %d", out.StatusCode)
	}
	need(c.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("api"), Name: aws.String("dev")})).on(t)
	_, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("api"), Name: aws.String("dev")})
	var nf *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("deleted alias: got %v", err)
	}
}

func TestAppAutoScalingTagsAndPolicyDeletion(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.AppAutoScaling()
	ecsService(t, ctx, env, "prod", "app", 1)
	out := need(c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/app"),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)})).on(t)
	need(c.TagResource(ctx, &aas.TagResourceInput{ResourceARN: out.ScalableTargetARN, Tags: map[string]string{"a": "1", "b": "2"}})).on(t)
	need(c.UntagResource(ctx, &aas.UntagResourceInput{ResourceARN: out.ScalableTargetARN, TagKeys: []string{"a"}})).on(t)
	tags := need(c.ListTagsForResource(ctx, &aas.ListTagsForResourceInput{ResourceARN: out.ScalableTargetARN})).on(t).Tags
	if len(tags) != 1 || tags["b"] != "2" {
		t.Errorf("tags %v", tags)
	}
	policy := &aas.PutScalingPolicyInput{PolicyName: aws.String("steps"), ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/app"),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyType: aastypes.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity,
			StepAdjustments: []aastypes.StepAdjustment{{ScalingAdjustment: aws.Int32(1), MetricIntervalLowerBound: aws.Float64(0)}}}}
	need(c.PutScalingPolicy(ctx, policy)).on(t)
	need(c.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{PolicyName: policy.PolicyName, ServiceNamespace: policy.ServiceNamespace, ResourceId: policy.ResourceId, ScalableDimension: policy.ScalableDimension})).on(t)
	if n := len(need(c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).on(t).ScalingPolicies); n != 0 {
		t.Errorf("%d policies after delete", n)
	}
}

func TestCloudMapInstancesAndHousekeeping(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.CloudMap()
	op := need(c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("apps")})).on(t)
	env.Emu.Advance(time.Second)
	nsID := need(c.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})).on(t).Operation.Targets["NAMESPACE"]
	svc := need(c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("api"), NamespaceId: aws.String(nsID)})).on(t).Service
	need(c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1"), Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.9"}})).on(t)
	inst := need(c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})).on(t).Instance
	if inst.Attributes["AWS_INSTANCE_IPV4"] != "10.0.0.9" {
		t.Errorf("instance %s", jsonOf(t, inst))
	}
	got := need(c.GetService(ctx, &sd.GetServiceInput{Id: svc.Id})).on(t).Service
	if aws.ToInt32(got.InstanceCount) != 1 {
		t.Errorf("instance count %d", aws.ToInt32(got.InstanceCount))
	}
	list := need(c.ListServices(ctx, &sd.ListServicesInput{Filters: []sdtypes.ServiceFilter{{Name: sdtypes.ServiceFilterNameNamespaceId, Values: []string{nsID}}}})).on(t).Services
	if len(list) != 1 {
		t.Errorf("services %s", jsonOf(t, list))
	}
	need(c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: svc.Arn, Tags: []sdtypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})).on(t)
	need(c.UntagResource(ctx, &sd.UntagResourceInput{ResourceARN: svc.Arn, TagKeys: []string{"missing"}})).on(t)
	if tags := need(c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: svc.Arn})).on(t).Tags; len(tags) != 1 {
		t.Errorf("tags %s", jsonOf(t, tags))
	}
	_, err := c.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})
	var riu *sdtypes.ResourceInUse
	if !errors.As(err, &riu) {
		t.Errorf("deleting a service with instances: got %v", err)
	}
	dereg := need(c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})).on(t)
	env.Emu.Advance(10 * time.Second)
	if s := need(c.GetOperation(ctx, &sd.GetOperationInput{OperationId: dereg.OperationId})).on(t).Operation; s.Status != sdtypes.OperationStatusSuccess {
		t.Errorf("deregistration %s", s.Status)
	}
	need(c.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})).on(t)
	need(c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(nsID)})).on(t)
	if n := len(need(c.ListNamespaces(ctx, &sd.ListNamespacesInput{})).on(t).Namespaces); n != 0 {
		t.Errorf("%d namespaces after delete", n)
	}
}

func TestAutoScalingCapacityChangesAndCancel(t *testing.T) {
	ctx := context.Background()
	env, as := webGroup(t, ctx, 1, 5)
	ec := env.EC2()
	need(as.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(2)})).on(t)
	need(as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(3)})).on(t)
	env.Emu.Advance(time.Minute)
	g := need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})).on(t).AutoScalingGroups[0]
	if aws.ToInt32(g.MinSize) != 2 || len(g.Instances) != 3 {
		t.Errorf("group min %d with %d instances", aws.ToInt32(g.MinSize), len(g.Instances))
	}
	_, err := as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(9)})
	if err == nil {
		t.Error("desired capacity above max accepted")
	}
	need(as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})).on(t)
	need(as.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})).on(t)
	_, err = as.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
	var none *astypes.ActiveInstanceRefreshNotFoundFault
	if !errors.As(err, &none) {
		t.Errorf("cancelling twice: got %v", err)
	}
	need(ec.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("web")})).on(t)
}

func TestECRListAndDeleteImages(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECR()
	repo := need(c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app")})).on(t).Repository
	for _, tag := range []string{"v1", "latest"} {
		need(c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(`{"v":1}`), ImageTag: aws.String(tag)})).on(t)
	}
	ids := need(c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("app")})).on(t).ImageIds
	if len(ids) != 2 || aws.ToString(ids[0].ImageDigest) != aws.ToString(ids[1].ImageDigest) {
		t.Errorf("image ids %s", jsonOf(t, ids))
	}
	need(c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("app"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("latest")}}})).on(t)
	if d := need(c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("app")})).on(t).ImageDetails; len(d) != 1 || len(d[0].ImageTags) != 1 {
		t.Errorf("after untagging: %s", jsonOf(t, d))
	}
	need(c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: repo.RepositoryArn, Tags: []ecrtypes.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})).on(t)
	if tags := need(c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: repo.RepositoryArn})).on(t).Tags; len(tags) != 1 {
		t.Errorf("tags %s", jsonOf(t, tags))
	}
}

func TestIAMRoleHousekeeping(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.IAM()
	need(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("a"), AssumeRolePolicyDocument: aws.String(trust)})).on(t)
	need(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("b"), AssumeRolePolicyDocument: aws.String(trust), Path: aws.String("/svc/")})).on(t)
	if roles := need(c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/svc/")})).on(t).Roles; len(roles) != 1 || aws.ToString(roles[0].RoleName) != "b" {
		t.Errorf("roles %s", jsonOf(t, roles))
	}
	newTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	need(c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("a"), PolicyDocument: aws.String(newTrust)})).on(t)
	need(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("a"), PolicyName: aws.String("p"), PolicyDocument: aws.String(newTrust)})).on(t)
	if names := need(c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("a")})).on(t).PolicyNames; len(names) != 1 {
		t.Errorf("inline policies %v", names)
	}
	if p := need(c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("a"), PolicyName: aws.String("p")})).on(t); aws.ToString(p.PolicyDocument) == "" {
		t.Error("empty inline policy")
	}
	need(c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("a"), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})).on(t)
	if tags := need(c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("a")})).on(t).Tags; len(tags) != 1 {
		t.Errorf("role tags %s", jsonOf(t, tags))
	}
	pol := need(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("x"), PolicyDocument: aws.String(newTrust)})).on(t).Policy
	if got := need(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: pol.Arn})).on(t).Policy; aws.ToString(got.PolicyName) != "x" {
		t.Errorf("policy %s", jsonOf(t, got))
	}
	need(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: pol.Arn})).on(t)
}

func TestEKSListingAndNodegroupUpdate(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.EKS()
	need(c.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("a"), RoleArn: aws.String("r"), ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"s"}}})).on(t)
	env.Emu.Advance(11 * time.Minute)
	if names := need(c.ListClusters(ctx, &eks.ListClustersInput{})).on(t).Clusters; len(names) != 1 {
		t.Errorf("clusters %v", names)
	}
	ng := need(c.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String("a"), NodegroupName: aws.String("n"), NodeRole: aws.String("r"), Subnets: []string{"s"}})).on(t).Nodegroup
	need(c.TagResource(ctx, &eks.TagResourceInput{ResourceArn: ng.NodegroupArn, Tags: map[string]string{"k": "v"}})).on(t)
	env.Emu.Advance(4 * time.Minute)
	if names := need(c.ListNodegroups(ctx, &eks.ListNodegroupsInput{ClusterName: aws.String("a")})).on(t).Nodegroups; len(names) != 1 {
		t.Errorf("nodegroups %v", names)
	}
	up := need(c.UpdateNodegroupVersion(ctx, &eks.UpdateNodegroupVersionInput{ClusterName: aws.String("a"), NodegroupName: aws.String("n"), Version: aws.String("1.34")})).on(t).Update
	env.Emu.Advance(11 * time.Minute)
	got := need(c.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("a"), NodegroupName: aws.String("n")})).on(t).Nodegroup
	u := need(c.DescribeUpdate(ctx, &eks.DescribeUpdateInput{Name: aws.String("a"), UpdateId: up.Id})).on(t).Update
	if aws.ToString(got.Version) != "1.34" || got.Status != ekstypes.NodegroupStatusActive || u.Status != ekstypes.UpdateStatusSuccessful || got.Tags["k"] != "v" {
		t.Errorf("nodegroup after update: %s, update %s", jsonOf(t, got), u.Status)
	}
}

func TestECSRunTaskExitsWithTheImagesStatus(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{})).on(t)
	good := registerApp(t, ctx, c, "migrate:ok")
	env.Emu.MarkImageBroken("migrate:bad")
	bad := registerApp(t, ctx, c, "migrate:bad")
	run := func(td string) string {
		out := need(c.RunTask(ctx, &ecs.RunTaskInput{NetworkConfiguration: awsvpc(), LaunchType: ecstypes.LaunchTypeFargate, TaskDefinition: aws.String(td), StartedBy: aws.String("jibe-hook"),
			Overrides: &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{Name: aws.String("web"), Command: []string{"migrate", "up"}}}}})).on(t)
		if len(out.Tasks) != 1 || aws.ToString(out.Tasks[0].StartedBy) != "jibe-hook" || out.Tasks[0].Overrides.ContainerOverrides[0].Command[0] != "migrate" {
			t.Fatalf("RunTask %s", jsonOf(t, out))
		}
		return aws.ToString(out.Tasks[0].TaskArn)
	}
	okTask, badTask := run(good), run(bad)
	listed := need(c.ListTasks(ctx, &ecs.ListTasksInput{StartedBy: aws.String("jibe-hook")})).on(t).TaskArns
	if len(listed) != 2 {
		t.Errorf("tasks started by the hook: %v", listed)
	}
	stopped := ecs.NewTasksStoppedWaiter(c, func(o *ecs.TasksStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(6*time.Second))
	})
	if err := stopped.Wait(ctx, &ecs.DescribeTasksInput{Tasks: []string{okTask, badTask}}, time.Minute); err != nil {
		t.Fatalf("TasksStopped: %v", err)
	}
	tasks := need(c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{okTask, badTask}})).on(t).Tasks
	codes := map[string]int32{}
	for _, task := range tasks {
		codes[aws.ToString(task.TaskArn)] = aws.ToInt32(task.Containers[0].ExitCode)
		if task.StopCode != ecstypes.TaskStopCodeEssentialContainerExited {
			t.Errorf("stop code %s", task.StopCode)
		}
	}
	if codes[okTask] != 0 || codes[badTask] != 1 {
		t.Errorf("exit codes %v, want 0 for the good image and 1 for the broken one", codes)
	}
}
