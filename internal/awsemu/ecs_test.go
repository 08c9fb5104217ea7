package awsemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

func TestECSTaskDefinitionAllFieldsRoundTrip(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	in := &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("api"), TaskRoleArn: aws.String("arn:aws:iam::111111111111:role/task"),
		ExecutionRoleArn: aws.String("arn:aws:iam::111111111111:role/exec"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		Cpu: aws.String("512"), Memory: aws.String("1024"), RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		RuntimePlatform:  &ecstypes.RuntimePlatform{CpuArchitecture: ecstypes.CPUArchitectureArm64, OperatingSystemFamily: ecstypes.OSFamilyLinux},
		EphemeralStorage: &ecstypes.EphemeralStorage{SizeInGiB: 30},
		Volumes:          []ecstypes.Volume{{Name: aws.String("data"), EfsVolumeConfiguration: &ecstypes.EFSVolumeConfiguration{FileSystemId: aws.String("fs-1"), TransitEncryption: ecstypes.EFSTransitEncryptionEnabled}}},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("api"), Image: aws.String("repo/api:v1"), Essential: aws.Bool(true), Cpu: 256, MemoryReservation: aws.Int32(256),
			PortMappings:     []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080), Protocol: ecstypes.TransportProtocolTcp, Name: aws.String("http"), AppProtocol: ecstypes.ApplicationProtocolHttp}},
			Environment:      []ecstypes.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("prod")}},
			Secrets:          []ecstypes.Secret{{Name: aws.String("DB"), ValueFrom: aws.String("arn:aws:ssm:us-east-1:111111111111:parameter/db")}},
			HealthCheck:      &ecstypes.HealthCheck{Command: []string{"CMD-SHELL", "curl -f localhost:8080/health"}, Interval: aws.Int32(10), Retries: aws.Int32(3)},
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/api", "awslogs-region": "us-east-1"}},
			MountPoints:      []ecstypes.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/data"), ReadOnly: aws.Bool(true)}},
			Ulimits:          []ecstypes.Ulimit{{Name: ecstypes.UlimitNameNofile, SoftLimit: 1024, HardLimit: 4096}},
			DependsOn:        []ecstypes.ContainerDependency{{ContainerName: aws.String("sidecar"), Condition: ecstypes.ContainerConditionHealthy}},
			DockerLabels:     map[string]string{"team": "core"},
			LinuxParameters:  &ecstypes.LinuxParameters{InitProcessEnabled: aws.Bool(true), Capabilities: &ecstypes.KernelCapabilities{Drop: []string{"ALL"}}},
		}, {Name: aws.String("sidecar"), Image: aws.String("repo/proxy:1"), Essential: aws.Bool(false)}},
		Tags: []ecstypes.Tag{{Key: aws.String("app"), Value: aws.String("api")}},
	}
	reg := need(c.RegisterTaskDefinition(ctx, in)).on(t)
	if got := reg.TaskDefinition.Revision; got != 1 {
		t.Fatalf("first revision = %d, want 1", got)
	}
	got := need(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("api"), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})).on(t)
	td := got.TaskDefinition
	for name, pair := range map[string][2]any{
		"containerDefinitions": {in.ContainerDefinitions, td.ContainerDefinitions},
		"volumes":              {in.Volumes, td.Volumes},
		"runtimePlatform":      {in.RuntimePlatform, td.RuntimePlatform},
		"ephemeralStorage":     {in.EphemeralStorage, td.EphemeralStorage},
		"tags":                 {in.Tags, got.Tags},
		"roles":                {[]*string{in.TaskRoleArn, in.ExecutionRoleArn}, []*string{td.TaskRoleArn, td.ExecutionRoleArn}},
	} {
		if a, b := jsonOf(t, pair[0]), jsonOf(t, pair[1]); a != b {
			t.Errorf("%s did not round-trip:\n sent %s\n  got %s", name, a, b)
		}
	}
	if td.Status != ecstypes.TaskDefinitionStatusActive || td.RegisteredAt == nil || *td.Cpu != "512" || td.NetworkMode != ecstypes.NetworkModeAwsvpc {
		t.Errorf("computed fields wrong: status %s registeredAt %v cpu %s", td.Status, td.RegisteredAt, aws.ToString(td.Cpu))
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestECSTaskDefinitionRevisionsListAndDeregister(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	for i := 1; i <= 5; i++ {
		registerApp(t, ctx, c, fmt.Sprintf("app:v%d", i))
	}
	var arns []string
	p := ecs.NewListTaskDefinitionsPaginator(c, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("app"), MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out := need(p.NextPage(ctx)).on(t)
		arns = append(arns, out.TaskDefinitionArns...)
		pages++
	}
	if len(arns) != 5 || pages != 3 {
		t.Fatalf("listed %d arns over %d pages, want 5 over 3", len(arns), pages)
	}
	need(c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("app:5")})).on(t)
	latest := need(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("app")})).on(t)
	if latest.TaskDefinition.Revision != 4 {
		t.Errorf("family resolves to revision %d after deregistering 5, want 4", latest.TaskDefinition.Revision)
	}
	old := need(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arns[4])})).on(t)
	if old.TaskDefinition.Status != ecstypes.TaskDefinitionStatusInactive || old.TaskDefinition.DeregisteredAt == nil {
		t.Errorf("deregistered revision status %s", old.TaskDefinition.Status)
	}
	fams := need(c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{})).on(t)
	if len(fams.Families) != 1 || fams.Families[0] != "app" {
		t.Errorf("families = %v", fams.Families)
	}
	_, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope")})
	var ce *ecstypes.ClientException
	if !errors.As(err, &ce) {
		t.Errorf("describe unknown task definition: got %v, want ClientException", err)
	}
}

func TestECSClustersAndTypedErrors(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	for i := 0; i < 3; i++ {
		need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(fmt.Sprintf("c%d", i)), Tags: []ecstypes.Tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(i))}}})).on(t)
	}
	var n int
	p := ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		n += len(need(p.NextPage(ctx)).on(t).ClusterArns)
	}
	if n != 3 {
		t.Errorf("listed %d clusters, want 3", n)
	}
	d := need(c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"c1", "missing"}, Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})).on(t)
	if len(d.Clusters) != 1 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" || len(d.Clusters[0].Tags) != 1 {
		t.Errorf("describe: clusters %d failures %v", len(d.Clusters), d.Failures)
	}

	_, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("nope"), Services: []string{"x"}})
	var cnf *ecstypes.ClusterNotFoundException
	if !errors.As(err, &cnf) {
		t.Errorf("unknown cluster: got %v, want ClusterNotFoundException", err)
	}
	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c0"), Service: aws.String("x"), DesiredCount: aws.Int32(1)})
	var snf *ecstypes.ServiceNotFoundException
	if !errors.As(err, &snf) {
		t.Errorf("unknown service: got %v, want ServiceNotFoundException", err)
	}
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprint("s", i)
	}
	_, err = c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c0"), Services: eleven})
	var ipe *ecstypes.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Errorf("describing 11 services: got %v, want InvalidParameterException", err)
	}
	need(c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("c2")})).on(t)
	d = need(c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"c2"}})).on(t)
	if aws.ToString(d.Clusters[0].Status) != "INACTIVE" {
		t.Errorf("deleted cluster status %s", aws.ToString(d.Clusters[0].Status))
	}
}

func TestECSServiceConvergesAndServicesStableWaiterPasses(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	td := registerApp(t, ctx, c, "app:v1")
	created := need(c.CreateService(ctx, &ecs.CreateServiceInput{NetworkConfiguration: awsvpc(),
		Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(3),
		LaunchType: ecstypes.LaunchTypeFargate,
	})).on(t)
	s := created.Service
	if s.RunningCount != 0 || len(s.Deployments) != 1 || s.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress {
		t.Fatalf("new service: running %d deployments %d", s.RunningCount, len(s.Deployments))
	}
	if aws.ToString(s.TaskDefinition) != td {
		t.Errorf("task definition resolved to %s, want %s", aws.ToString(s.TaskDefinition), td)
	}
	env.Emu.Advance(5 * time.Second)
	if got := describeService(t, ctx, c, "prod", "app"); got.PendingCount != 3 || got.RunningCount != 0 {
		t.Errorf("after 5s: pending %d running %d, want 3/0", got.PendingCount, got.RunningCount)
	}
	waitStable(t, ctx, env, c, "prod", "app")
	got := describeService(t, ctx, c, "prod", "app")
	if got.RunningCount != 3 || got.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted {
		t.Errorf("stable service: running %d rollout %s", got.RunningCount, got.Deployments[0].RolloutState)
	}
	tasks := need(c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("app"), MaxResults: aws.Int32(2)})).on(t)
	if len(tasks.TaskArns) != 2 || tasks.NextToken == nil {
		t.Fatalf("ListTasks page: %d arns, next %v", len(tasks.TaskArns), tasks.NextToken)
	}
	dt := need(c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: tasks.TaskArns})).on(t)
	for _, task := range dt.Tasks {
		if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.TaskDefinitionArn) != td || aws.ToString(task.Group) != "service:app" {
			t.Errorf("task %s: status %s td %s group %s", aws.ToString(task.TaskArn), aws.ToString(task.LastStatus), aws.ToString(task.TaskDefinitionArn), aws.ToString(task.Group))
		}
	}

	// Scaling in is not a new deployment.
	need(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("app"), DesiredCount: aws.Int32(1)})).on(t)
	waitStable(t, ctx, env, c, "prod", "app")
	got = describeService(t, ctx, c, "prod", "app")
	if got.RunningCount != 1 || len(got.Deployments) != 1 || aws.ToString(got.Deployments[0].Id) != aws.ToString(s.Deployments[0].Id) {
		t.Errorf("after scale-in: running %d deployments %d", got.RunningCount, len(got.Deployments))
	}
}

func TestECSRollingUpdateThroughLoadBalancerHasNo5xx(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, elb := env.ECS(), env.ELBv2()
	w := newWeb(t, ctx, elb)
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	registerApp(t, ctx, c, "app:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String("app:1"), DesiredCount: aws.Int32(2),
		LaunchType: ecstypes.LaunchTypeFargate, HealthCheckGracePeriodSeconds: aws.Int32(10),
		LoadBalancers:           []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(w.blue), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
		NetworkConfiguration:    &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200)},
	})).on(t)
	waitStable(t, ctx, env, c, "prod", "app")
	v1Targets := healthyTargets(t, ctx, elb, w.blue)
	if len(v1Targets) != 2 {
		t.Fatalf("healthy targets after first deployment: %v", v1Targets)
	}

	registerApp(t, ctx, c, "app:v2")
	up := need(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("app"), TaskDefinition: aws.String("app:2")})).on(t)
	if n := len(up.Service.Deployments); n != 2 || aws.ToString(up.Service.Deployments[0].Status) != "PRIMARY" || aws.ToString(up.Service.Deployments[1].Status) != "ACTIVE" {
		t.Fatalf("after update: %d deployments", n)
	}
	sawDraining := false
	for i := 0; i < 60; i++ {
		res := need(env.Emu.SendTraffic(w.listener, 50)).on(t)
		if res.Errors() != 0 {
			t.Fatalf("t+%ds: %s", i*5, res)
		}
		for _, d := range describeTargets(t, ctx, elb, w.blue) {
			sawDraining = sawDraining || d.TargetHealth.State == elbtypes.TargetHealthStateEnumDraining
		}
		env.Emu.Advance(5 * time.Second)
	}
	waitStable(t, ctx, env, c, "prod", "app")
	got := describeService(t, ctx, c, "prod", "app")
	if got.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted || aws.ToString(got.Deployments[0].TaskDefinition) != aws.ToString(up.Service.TaskDefinition) {
		t.Errorf("rollout %s on %s", got.Deployments[0].RolloutState, aws.ToString(got.Deployments[0].TaskDefinition))
	}
	if !sawDraining {
		t.Error("old tasks never drained from the target group")
	}
	v2Targets := healthyTargets(t, ctx, elb, w.blue)
	for _, id := range v2Targets {
		for _, old := range v1Targets {
			if id == old {
				t.Errorf("old target %s still registered after the rollout", id)
			}
		}
	}
	if len(describeTargets(t, ctx, elb, w.blue)) != 2 {
		t.Errorf("target group has %d targets, want the 2 new ones", len(describeTargets(t, ctx, elb, w.blue)))
	}
}

func describeTargets(t *testing.T, ctx context.Context, c *elbv2.Client, tg string) []elbtypes.TargetHealthDescription {
	t.Helper()
	return need(c.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})).on(t).TargetHealthDescriptions
}

func healthyTargets(t *testing.T, ctx context.Context, c *elbv2.Client, tg string) []string {
	t.Helper()
	var ids []string
	for _, d := range describeTargets(t, ctx, c, tg) {
		if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			ids = append(ids, aws.ToString(d.Target.Id))
		}
	}
	return ids
}

func TestECSBrokenImageTripsCircuitBreakerAndRollsBack(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, elb := env.ECS(), env.ELBv2()
	w := newWeb(t, ctx, elb)
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	v1 := registerApp(t, ctx, c, "app:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{LaunchType: ecstypes.LaunchTypeFargate,
		Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(2),
		LoadBalancers:        []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(w.blue), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{
			DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true},
		},
	})).on(t)
	waitStable(t, ctx, env, c, "prod", "app")

	env.Emu.MarkImageBroken("app:v2")
	v2 := registerApp(t, ctx, c, "app:v2")
	up := need(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("app"), TaskDefinition: aws.String(v2)})).on(t)
	failedID := aws.ToString(up.Service.Deployments[0].Id)
	for i := 0; i < 120; i++ {
		if res := need(env.Emu.SendTraffic(w.listener, 20)).on(t); res.Errors() != 0 {
			t.Fatalf("t+%ds: broken tasks served traffic: %s", i*5, res)
		}
		env.Emu.Advance(5 * time.Second)
	}
	waitStable(t, ctx, env, c, "prod", "app")
	got := describeService(t, ctx, c, "prod", "app")
	if aws.ToString(got.TaskDefinition) != v1 || aws.ToString(got.Deployments[0].TaskDefinition) != v1 {
		t.Errorf("service did not roll back to %s: %s", v1, aws.ToString(got.TaskDefinition))
	}
	if aws.ToString(got.Deployments[0].Id) == failedID {
		t.Error("rollback did not create a new deployment")
	}
	stopped := need(c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), DesiredStatus: ecstypes.DesiredStatusStopped})).on(t)
	dt := need(c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: stopped.TaskArns})).on(t)
	failedHC := 0
	for _, task := range dt.Tasks {
		if aws.ToString(task.StartedBy) == failedID && len(aws.ToString(task.StoppedReason)) > 0 {
			failedHC++
		}
	}
	if failedHC < 3 {
		t.Errorf("%d stopped tasks of the failed deployment, want at least the circuit breaker threshold 3", failedHC)
	}
	events := got.Events
	found := false
	for _, e := range events {
		found = found || containsStr(aws.ToString(e.Message), "deployment failed")
	}
	if !found {
		t.Errorf("no deployment-failed event in %d events", len(events))
	}
}

func containsStr(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || containsStr(s[1:], sub)))
}

func TestECSBrokenImageWithoutRollbackFailsDeployment(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	env.Emu.MarkImageBroken("app:bad")
	registerApp(t, ctx, c, "app:bad")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{NetworkConfiguration: awsvpc(), LaunchType: ecstypes.LaunchTypeFargate,
		Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(2),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true}},
	})).on(t)
	env.Emu.Advance(5 * time.Minute)
	got := describeService(t, ctx, c, "prod", "app")
	d := got.Deployments[0]
	if d.RolloutState != ecstypes.DeploymentRolloutStateFailed || d.FailedTasks < 3 || got.RunningCount != 0 {
		t.Errorf("rollout %s failed tasks %d running %d", d.RolloutState, d.FailedTasks, got.RunningCount)
	}
}

func TestECSServiceConfigurationRoundTrips(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	registerApp(t, ctx, c, "app:v1")
	in := &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(1),
		LaunchType:           ecstypes.LaunchTypeEc2,
		PlacementConstraints: []ecstypes.PlacementConstraint{{Type: ecstypes.PlacementConstraintTypeDistinctInstance}},
		PlacementStrategy:    []ecstypes.PlacementStrategy{{Type: ecstypes.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")}},
		ServiceRegistries:    []ecstypes.ServiceRegistry{{RegistryArn: aws.String("arn:aws:servicediscovery:us-east-1:111111111111:service/srv-1"), ContainerName: aws.String("web")}},
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{"subnet-a", "subnet-b"}, SecurityGroups: []string{"sg-1"}, AssignPublicIp: ecstypes.AssignPublicIpDisabled}},
		Tags:                 []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
		EnableECSManagedTags: true, PropagateTags: ecstypes.PropagateTagsService, EnableExecuteCommand: true,
	}
	need(c.CreateService(ctx, in)).on(t)
	out := need(c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"app"}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})).on(t)
	s := out.Services[0]
	for name, pair := range map[string][2]any{
		"placementConstraints": {in.PlacementConstraints, s.PlacementConstraints},
		"placementStrategy":    {in.PlacementStrategy, s.PlacementStrategy},
		"serviceRegistries":    {in.ServiceRegistries, s.ServiceRegistries},
		"networkConfiguration": {in.NetworkConfiguration, s.NetworkConfiguration},
		"tags":                 {in.Tags, s.Tags},
		"flags":                {[]any{in.EnableECSManagedTags, in.PropagateTags, in.EnableExecuteCommand}, []any{s.EnableECSManagedTags, s.PropagateTags, s.EnableExecuteCommand}},
	} {
		if a, b := jsonOf(t, pair[0]), jsonOf(t, pair[1]); a != b {
			t.Errorf("%s did not round-trip:\n sent %s\n  got %s", name, a, b)
		}
	}
	// An update that only touches tags-unrelated settings keeps the rest.
	need(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("app"), HealthCheckGracePeriodSeconds: aws.Int32(30)})).on(t)
	s2 := describeService(t, ctx, c, "prod", "app")
	if jsonOf(t, s2.NetworkConfiguration) != jsonOf(t, in.NetworkConfiguration) || aws.ToInt32(s2.HealthCheckGracePeriodSeconds) != 30 || len(s2.Deployments) != 1 {
		t.Errorf("partial update lost settings or redeployed: %d deployments", len(s2.Deployments))
	}
	need(c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: s.ServiceArn, Tags: []ecstypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})).on(t)
	need(c.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: s.ServiceArn, TagKeys: []string{"team"}})).on(t)
	tags := need(c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: s.ServiceArn})).on(t)
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("tags after tag/untag: %v", jsonOf(t, tags.Tags))
	}
}

func TestECSDescribeServicesBatchesAndReportsMissing(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{})).on(t)
	registerApp(t, ctx, c, "app:v1")
	var names []string
	for i := 0; i < 12; i++ {
		name := fmt.Sprintf("svc%02d", i)
		names = append(names, name)
		need(c.CreateService(ctx, &ecs.CreateServiceInput{NetworkConfiguration: awsvpc(), LaunchType: ecstypes.LaunchTypeFargate, ServiceName: aws.String(name), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(0)})).on(t)
	}
	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{NetworkConfiguration: awsvpc(), LaunchType: ecstypes.LaunchTypeFargate, ServiceName: aws.String("svc00"), TaskDefinition: aws.String("app")})
	var ipe *ecstypes.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Errorf("duplicate service: got %v, want InvalidParameterException", err)
	}
	var listed []string
	p := ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{})
	for p.HasMorePages() {
		listed = append(listed, need(p.NextPage(ctx)).on(t).ServiceArns...)
	}
	if len(listed) != 12 {
		t.Fatalf("listed %d services, want 12", len(listed))
	}
	out := need(c.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: append(listed[:9:9], "ghost")})).on(t)
	if len(out.Services) != 9 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Errorf("batch of 10: %d services, failures %v", len(out.Services), jsonOf(t, out.Failures))
	}
	_, err = c.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("svc01")})
	if err != nil {
		t.Fatalf("delete scaled-to-zero service: %v", err)
	}
	env.Emu.Advance(time.Second)
	if s := describeService(t, ctx, c, "default", "svc01"); aws.ToString(s.Status) != "INACTIVE" {
		t.Errorf("deleted service status %s", aws.ToString(s.Status))
	}
}

func TestFaultInjectionThrottlesWithServiceErrorCode(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.Emu.Inject(awsemu.Fault{Service: "ecs", Operation: "ListClusters", Kind: awsemu.Throttle, Count: 2})
	noRetry := env.ECS(func(o *ecs.Options) { o.Retryer = awsemutest.Retryer(1)() })
	_, err := noRetry.ListClusters(ctx, &ecs.ListClustersInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Fatalf("got %v, want ThrottlingException", err)
	}
	// The SDK's retryer treats it as retryable: the next call succeeds on the second attempt.
	env.Emu.ResetRequests()
	need(env.ECS().ListClusters(ctx, &ecs.ListClustersInput{})).on(t)
	if n := len(env.Emu.Requests()); n != 2 {
		t.Errorf("retried call made %d requests, want 2", n)
	}
	env.Emu.Inject(awsemu.Fault{Service: "elasticloadbalancing", Kind: awsemu.ServerError, Count: 1})
	_, err = env.ELBv2(func(o *elbv2.Options) { o.Retryer = awsemutest.Retryer(1)() }).DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	var re *smithy.GenericAPIError
	if !errors.As(err, &re) || re.Code != "InternalFailure" {
		t.Errorf("got %v, want InternalFailure", err)
	}
}

func TestRequestsAreRecordedAndWritesCounted(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	registerApp(t, ctx, c, "app:v1")
	env.Emu.ResetRequests()
	// A no-op reconcile only reads.
	need(c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"prod"}})).on(t)
	need(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("app")})).on(t)
	if w := env.Emu.WriteCalls(); len(w) != 0 {
		t.Errorf("read-only calls recorded as writes: %v", w)
	}
	need(c.CreateService(ctx, &ecs.CreateServiceInput{NetworkConfiguration: awsvpc(), LaunchType: ecstypes.LaunchTypeFargate, Cluster: aws.String("prod"), ServiceName: aws.String("a"), TaskDefinition: aws.String("app")})).on(t)
	reqs := env.Emu.Requests()
	last := reqs[len(reqs)-1]
	if last.Service != "ecs" || last.Operation != "CreateService" || last.Account != "111111111111" || last.Region != "us-east-1" || !last.Write || last.Status != 200 {
		t.Errorf("recorded %+v", last)
	}
	if w := env.Emu.WriteCalls("ecs"); len(w) != 1 {
		t.Errorf("write calls = %d, want 1", len(w))
	}
}

func TestStateIsPartitionedByAccountAndRegion(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	need(env.ECS().CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	other := env.As("AKIDOTHER", "s", "")
	west := env.As(env.AccessKey, env.SecretKey, "us-west-2")
	for name, e := range map[string]interface {
		ECS(...func(*ecs.Options)) *ecs.Client
	}{"other account": other, "other region": west} {
		out := need(e.ECS().ListClusters(ctx, &ecs.ListClustersInput{})).on(t)
		if len(out.ClusterArns) != 0 {
			t.Errorf("%s sees clusters %v", name, out.ClusterArns)
		}
	}
	out := need(env.ECS().ListClusters(ctx, &ecs.ListClustersInput{})).on(t)
	if len(out.ClusterArns) != 1 || out.ClusterArns[0] != "arn:aws:ecs:us-east-1:111111111111:cluster/prod" {
		t.Errorf("own clusters %v", out.ClusterArns)
	}
}

func TestECSRejectsTargetGroupWithoutLoadBalancer(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, elb := env.ECS(), env.ELBv2()
	tg := need(elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("lonely"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp})).on(t).TargetGroups[0]
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{})).on(t)
	registerApp(t, ctx, c, "app:v1")
	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{NetworkConfiguration: awsvpc(), LaunchType: ecstypes.LaunchTypeFargate, ServiceName: aws.String("app"), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(1),
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: tg.TargetGroupArn, ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}})
	var ipe *ecstypes.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Errorf("target group without load balancer: got %v, want InvalidParameterException", err)
	}
}

func TestECSDeploymentAlarmRollsBack(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, cw := env.ECS(), env.CloudWatch()
	need(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("app-errors"), Namespace: aws.String("Jibe/App"), MetricName: aws.String("Errors"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching")})).on(t)
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{})).on(t)
	v1 := registerApp(t, ctx, c, "app:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{NetworkConfiguration: awsvpc(), LaunchType: ecstypes.LaunchTypeFargate, ServiceName: aws.String("app"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(2),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{Alarms: &ecstypes.DeploymentAlarms{AlarmNames: []string{"app-errors"}, Enable: true, Rollback: true}}})).on(t)
	waitStable(t, ctx, env, c, "default", "app")
	if d := describeService(t, ctx, c, "default", "app").Deployments[0]; d.RolloutState != ecstypes.DeploymentRolloutStateInProgress {
		t.Errorf("deployment %s before its alarm bake time elapsed", d.RolloutState)
	}
	env.Emu.Advance(2 * time.Minute) // the bake time: the alarm's period × (evaluation periods + 1)
	if d := describeService(t, ctx, c, "default", "app").Deployments[0]; d.RolloutState != ecstypes.DeploymentRolloutStateCompleted {
		t.Fatalf("deployment %s after the bake time", d.RolloutState)
	}
	v2 := registerApp(t, ctx, c, "app:v2")
	up := need(c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("app"), TaskDefinition: aws.String(v2)})).on(t).Service
	need(cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Jibe/App"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("Errors"), Value: aws.Float64(3)}}})).on(t)
	env.Emu.Advance(2 * time.Minute)
	s := describeService(t, ctx, c, "default", "app")
	var failed *ecstypes.Deployment
	for i := range s.Deployments {
		if aws.ToString(s.Deployments[i].Id) == aws.ToString(up.Deployments[0].Id) {
			failed = &s.Deployments[i]
		}
	}
	if failed == nil || failed.RolloutState != ecstypes.DeploymentRolloutStateFailed {
		t.Errorf("the alarmed deployment was not kept as FAILED: %s", jsonOf(t, s.Deployments))
	}
	waitStable(t, ctx, env, c, "default", "app")
	if got := describeService(t, ctx, c, "default", "app"); aws.ToString(got.TaskDefinition) != v1 || aws.ToString(got.Deployments[0].Id) == aws.ToString(up.Deployments[0].Id) {
		t.Errorf("did not roll back to %s: %s", v1, jsonOf(t, got.Deployments))
	}
}

func TestECSErroringVersionTripsALBAlarmAndRollsBack(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, elb, cw := env.ECS(), env.ELBv2(), env.CloudWatch()
	w := newWeb(t, ctx, elb)
	need(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("blue-5xx"), Namespace: aws.String("AWS/ApplicationELB"),
		MetricName: aws.String("HTTPCode_Target_5XX_Count"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(0), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(w.lb[len("arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/"):])},
			{Name: aws.String("TargetGroup"), Value: aws.String(w.blue[len("arn:aws:elasticloadbalancing:us-east-1:111111111111:"):])}}})).on(t)
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{})).on(t)
	v1 := registerApp(t, ctx, c, "app:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{LaunchType: ecstypes.LaunchTypeFargate, ServiceName: aws.String("app"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(2),
		LoadBalancers:           []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(w.blue), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
		NetworkConfiguration:    &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{Alarms: &ecstypes.DeploymentAlarms{AlarmNames: []string{"blue-5xx"}, Enable: true, Rollback: true}}})).on(t)
	waitStable(t, ctx, env, c, "default", "app")
	env.Emu.Advance(2 * time.Minute)

	env.Emu.SetImageErrorRate("app:v2", 0.2) // healthy, but one request in five fails
	v2 := registerApp(t, ctx, c, "app:v2")
	need(c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("app"), TaskDefinition: aws.String(v2)})).on(t)
	failures := 0
	for i := 0; i < 72; i++ {
		failures += need(env.Emu.SendTraffic(w.listener, 50)).on(t).Target5xx
		env.Emu.Advance(5 * time.Second)
	}
	if failures == 0 {
		t.Fatal("the erroring version never answered a request")
	}
	waitStable(t, ctx, env, c, "default", "app")
	got := describeService(t, ctx, c, "default", "app")
	if aws.ToString(got.TaskDefinition) != v1 {
		t.Fatalf("service runs %s after its deployment alarm fired, want a rollback to %s", aws.ToString(got.TaskDefinition), v1)
	}
	if res := need(env.Emu.SendTraffic(w.listener, 100)).on(t); res.Errors() != 0 {
		t.Errorf("after the rollback: %s", res)
	}
}
