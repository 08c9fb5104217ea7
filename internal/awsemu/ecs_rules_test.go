package awsemu_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

// ecrWeb is an image of the test account's own ECR.
const ecrWeb = awsemutest.Account + ".dkr.ecr." + awsemutest.Region + ".amazonaws.com/web"

func TestECSImageMissingFromECRCannotBePulled(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, reg := env.ECS(), env.ECR()
	need(reg.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("web")})).on(t)
	need(reg.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("web"), ImageTag: aws.String("v1"), ImageManifest: aws.String(`{"v":1}`)})).on(t)
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	v1 := registerApp(t, ctx, c, ecrWeb+":v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String(v1),
		DesiredCount: aws.Int32(2), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: awsvpc(),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true}}})).on(t)
	waitStable(t, ctx, env, c, "prod", "app") // a pushed image pulls

	v9 := registerApp(t, ctx, c, ecrWeb+":v9") // never pushed
	need(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("app"), TaskDefinition: aws.String(v9)})).on(t)
	env.Emu.Advance(20 * time.Second)
	stopped := need(c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), DesiredStatus: ecstypes.DesiredStatusStopped})).on(t).TaskArns
	if len(stopped) == 0 {
		t.Fatal("no task of the unpushed image stopped 20s after the update")
	}
	task := need(c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: stopped[:1]})).on(t).Tasks[0]
	if reason := aws.ToString(task.StoppedReason); !strings.HasPrefix(reason, "CannotPullContainerError:") || !strings.Contains(reason, ecrWeb+":v9") ||
		task.StopCode != ecstypes.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(aws.ToString(task.Containers[0].Reason), "CannotPullContainerError:") {
		t.Errorf("stopped task: code %s, reason %q, container reason %q; want TaskFailedToStart and CannotPullContainerError naming the image",
			task.StopCode, aws.ToString(task.StoppedReason), aws.ToString(task.Containers[0].Reason))
	}
	env.Emu.Advance(time.Minute)
	if ev := jsonOf(t, describeService(t, ctx, c, "prod", "app").Events); !strings.Contains(ev, "deployment failed: ECS deployment circuit breaker") {
		t.Fatalf("service events %s; want the deployment of the unpushed image failed by the circuit breaker", ev)
	}
	waitStable(t, ctx, env, c, "prod", "app")
	if got := aws.ToString(describeService(t, ctx, c, "prod", "app").TaskDefinition); got != v1 {
		t.Errorf("after the rollback the service runs %s, want %s", got, v1)
	}
}

func TestECSImagesOutsideTheAccountsECRArePulled(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{})).on(t)
	for i, image := range []string{"docker.io/library/nginx:1.27", "public.ecr.aws/nginx/nginx:1", "222222222222.dkr.ecr.us-east-1.amazonaws.com/shared:v1"} {
		need(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("app"), NetworkMode: ecstypes.NetworkModeAwsvpc,
			Cpu: aws.String("256"), Memory: aws.String("512"), RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(image)}}})).on(t)
		out := need(c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("app"), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: awsvpc()})).on(t)
		env.Emu.Advance(20 * time.Second)
		task := need(c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{*out.Tasks[0].TaskArn}})).on(t).Tasks[0]
		if aws.ToString(task.LastStatus) != "RUNNING" {
			t.Errorf("%d: task of %s is %s (%s), want RUNNING", i, image, aws.ToString(task.LastStatus), aws.ToString(task.StoppedReason))
		}
	}
}

func TestECSEC2TasksNeedAContainerInstance(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	need(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("app"), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("app:v1"), Memory: aws.Int32(256)}}})).on(t)
	need(c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String("app"),
		DesiredCount: aws.Int32(2)})).on(t) // no launch type, no cluster strategy: EC2
	env.Emu.Advance(time.Minute)
	svc := describeService(t, ctx, c, "prod", "app")
	if svc.LaunchType != ecstypes.LaunchTypeEc2 || svc.RunningCount+svc.PendingCount != 0 || len(svc.Events) == 0 ||
		!strings.Contains(aws.ToString(svc.Events[0].Message), "was unable to place a task because no container instance met all of its requirements") {
		t.Fatalf("EC2 service in a cluster without instances: launch type %s, running %d, pending %d, events %s; want no task and an event saying it cannot place one",
			svc.LaunchType, svc.RunningCount, svc.PendingCount, jsonOf(t, svc.Events))
	}
	_, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("app"), LaunchType: ecstypes.LaunchTypeEc2})
	var ipe *ecstypes.InvalidParameterException
	if !errors.As(err, &ipe) || !strings.Contains(ipe.ErrorMessage(), "No Container Instances were found in your cluster") {
		t.Errorf("RunTask on EC2 without instances: got %v, want InvalidParameterException", err)
	}
	ci := need(c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("prod"),
		TotalResources: instanceResources(2048, 3840)})).on(t).ContainerInstance
	if arns := need(c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("prod")})).on(t).ContainerInstanceArns; len(arns) != 1 || arns[0] != *ci.ContainerInstanceArn {
		t.Errorf("ListContainerInstances = %v, want [%s]", arns, *ci.ContainerInstanceArn)
	}
	waitStable(t, ctx, env, c, "prod", "app")
}

func TestECSFargateTaskDefinitionRules(t *testing.T) {
	ctx := context.Background()
	c := start(t).ECS()
	for _, tc := range []struct {
		mode        ecstypes.NetworkMode
		cpu, memory string
		want        string // "" = accepted
	}{
		{ecstypes.NetworkModeAwsvpc, "256", "512", ""},
		{ecstypes.NetworkModeAwsvpc, "1 vCPU", "2 GB", ""},
		{ecstypes.NetworkModeAwsvpc, "4096", "30720", ""},
		{ecstypes.NetworkModeAwsvpc, "512", "99", "No Fargate configuration exists for given values: 512 CPU, 99 memory"},
		{ecstypes.NetworkModeAwsvpc, "256", "4096", "No Fargate configuration exists"},
		{ecstypes.NetworkModeAwsvpc, "1024", "2500", "No Fargate configuration exists"},
		{ecstypes.NetworkModeAwsvpc, "", "512", "Fargate requires that 'cpu' be defined at the task level."},
		{ecstypes.NetworkModeAwsvpc, "256", "", "Fargate requires that 'memory' be defined at the task level."},
		{ecstypes.NetworkModeBridge, "256", "512", "Fargate only supports network mode 'awsvpc'."},
		{"", "256", "512", "Fargate only supports network mode 'awsvpc'."},
	} {
		in := &ecs.RegisterTaskDefinitionInput{Family: aws.String("app"), NetworkMode: tc.mode,
			RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
			ContainerDefinitions:    []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("app:v1")}}}
		if tc.cpu != "" {
			in.Cpu = aws.String(tc.cpu)
		}
		if tc.memory != "" {
			in.Memory = aws.String(tc.memory)
		}
		_, err := c.RegisterTaskDefinition(ctx, in)
		var ce *ecstypes.ClientException
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %s/%s: %v, want accepted", tc.mode, tc.cpu, tc.memory, err)
		case tc.want != "" && (!errors.As(err, &ce) || !strings.Contains(ce.ErrorMessage(), tc.want)):
			t.Errorf("%s %s/%s: got %v, want ClientException %q", tc.mode, tc.cpu, tc.memory, err, tc.want)
		}
	}
}

func TestECSServiceParameterRules(t *testing.T) {
	ctx := context.Background()
	c := start(t).ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	registerApp(t, ctx, c, "app:v1") // Fargate, awsvpc
	need(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bridge"), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("app:v1"), Memory: aws.Int32(256)}}})).on(t)
	spot := []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}}
	for name, tc := range map[string]struct {
		in   ecs.CreateServiceInput
		want string
	}{
		"launch type and strategy": {ecs.CreateServiceInput{TaskDefinition: aws.String("app"), LaunchType: ecstypes.LaunchTypeFargate,
			CapacityProviderStrategy: spot, NetworkConfiguration: awsvpc()}, "Specifying both a launch type and capacity provider strategy is not supported"},
		"awsvpc without network configuration": {ecs.CreateServiceInput{TaskDefinition: aws.String("app"), LaunchType: ecstypes.LaunchTypeFargate},
			"Network Configuration must be provided when networkMode 'awsvpc' is specified."},
		"network configuration on bridge": {ecs.CreateServiceInput{TaskDefinition: aws.String("bridge"), LaunchType: ecstypes.LaunchTypeEc2, NetworkConfiguration: awsvpc()},
			"Network Configuration is not valid for the given networkMode"},
		"Fargate with an EC2 task definition": {ecs.CreateServiceInput{TaskDefinition: aws.String("bridge"), LaunchType: ecstypes.LaunchTypeFargate},
			"Task definition does not support launch_type FARGATE."},
		"Fargate strategy with an EC2 task definition": {ecs.CreateServiceInput{TaskDefinition: aws.String("bridge"), CapacityProviderStrategy: spot},
			"Task definition does not support launch_type FARGATE."},
		"placement on Fargate": {ecs.CreateServiceInput{TaskDefinition: aws.String("app"), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: awsvpc(),
			PlacementStrategy: []ecstypes.PlacementStrategy{{Type: ecstypes.PlacementStrategyTypeSpread, Field: aws.String("instanceId")}}}, "not supported with FARGATE"},
	} {
		in := tc.in
		in.Cluster, in.ServiceName, in.DesiredCount = aws.String("prod"), aws.String("app"), aws.Int32(1)
		_, err := c.CreateService(ctx, &in)
		var ipe *ecstypes.InvalidParameterException
		if !errors.As(err, &ipe) || !strings.Contains(ipe.ErrorMessage(), tc.want) {
			t.Errorf("%s: got %v, want InvalidParameterException %q", name, err, tc.want)
		}
	}
	need(c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String("app"),
		DesiredCount: aws.Int32(1), CapacityProviderStrategy: spot, NetworkConfiguration: awsvpc()})).on(t)
	_, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("app"), TaskDefinition: aws.String("bridge")})
	var ipe *ecstypes.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Errorf("UpdateService of a Fargate service to an EC2-only, bridge task definition: got %v, want InvalidParameterException", err)
	}
}

// instanceResources are what an ECS agent registers for an instance of
// cpu units and memory MiB, with the ports the agent reserves.
func instanceResources(cpu, memory int32) []ecstypes.Resource {
	return []ecstypes.Resource{
		{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: cpu},
		{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: memory},
		{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: []string{"22", "2375", "2376", "51678", "51679"}},
	}
}

// EC2 tasks are placed only where an instance has the CPU, memory and host
// ports they reserve left: RunTask reports RESOURCE:* failures, and a
// service records the event AWS writes and runs what fits.
func TestECSEC2PlacementByResources(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	ci := need(c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("prod"),
		TotalResources: instanceResources(1024, 1024)})).on(t).ContainerInstance
	taskDef := func(family string, cpu, memory int32, hostPort int32) {
		cd := ecstypes.ContainerDefinition{Name: aws.String("web"), Image: aws.String("app:v1"), Cpu: cpu, Memory: aws.Int32(memory)}
		if hostPort != 0 {
			cd.PortMappings = []ecstypes.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(hostPort)}}
		}
		need(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), NetworkMode: ecstypes.NetworkModeBridge,
			ContainerDefinitions: []ecstypes.ContainerDefinition{cd}})).on(t)
	}
	taskDef("big", 256, 600, 8080)
	taskDef("hungry", 1024, 100, 0)
	taskDef("port", 0, 100, 8080)
	taskDef("reserved", 0, 100, 22)
	need(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("task-level"), NetworkMode: ecstypes.NetworkModeBridge,
		Cpu: aws.String("128"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("app:v1")}}})).on(t)

	run := func(family string) *ecs.RunTaskOutput {
		return need(c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String(family), LaunchType: ecstypes.LaunchTypeEc2})).on(t)
	}
	first := run("big")
	if len(first.Tasks) != 1 || aws.ToString(first.Tasks[0].ContainerInstanceArn) != aws.ToString(ci.ContainerInstanceArn) {
		t.Fatalf("RunTask big = %s, want one task on %s", jsonOf(t, first), aws.ToString(ci.ContainerInstanceArn))
	}
	for family, reason := range map[string]string{"big": "RESOURCE:MEMORY", "task-level": "RESOURCE:MEMORY", "hungry": "RESOURCE:CPU", "port": "RESOURCE:PORTS", "reserved": "RESOURCE:PORTS"} {
		out := run(family)
		if len(out.Tasks) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != reason ||
			aws.ToString(out.Failures[0].Arn) != aws.ToString(ci.ContainerInstanceArn) {
			t.Errorf("RunTask %s with the instance's room taken = %s, want failure %s on the instance", family, jsonOf(t, out), reason)
		}
	}
	got := need(c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("prod"),
		ContainerInstances: []string{aws.ToString(ci.ContainerInstanceArn)}})).on(t).ContainerInstances[0]
	remaining := map[string]int32{}
	for _, r := range got.RemainingResources {
		remaining[aws.ToString(r.Name)] = r.IntegerValue
	}
	if remaining["CPU"] != 768 || remaining["MEMORY"] != 424 || got.RunningTasksCount+got.PendingTasksCount != 1 {
		t.Errorf("instance after one task: remaining %v, running %d pending %d; want CPU 768, MEMORY 424, 1 task", remaining, got.RunningTasksCount, got.PendingTasksCount)
	}

	// A service of two 600 MiB tasks on a fresh 1024 MiB instance runs one.
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("small")})).on(t)
	small := need(c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("small"),
		TotalResources: instanceResources(2048, 1024)})).on(t).ContainerInstance
	need(c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("small"), ServiceName: aws.String("app"), TaskDefinition: aws.String("big"),
		DesiredCount: aws.Int32(2), LaunchType: ecstypes.LaunchTypeEc2})).on(t)
	env.Emu.Advance(time.Minute)
	svc := describeService(t, ctx, c, "small", "app")
	want := "(service app) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance " +
		nameOf(aws.ToString(small.ContainerInstanceArn)) + ") has insufficient memory available."
	if svc.RunningCount+svc.PendingCount != 1 || !slices.ContainsFunc(svc.Events, func(e ecstypes.ServiceEvent) bool { return strings.HasPrefix(aws.ToString(e.Message), want) }) {
		t.Errorf("service of two tasks with room for one: running %d, pending %d, events %s; want one task and %q", svc.RunningCount, svc.PendingCount, jsonOf(t, svc.Events), want)
	}

	// Room made by stopping the standalone task lets another run.
	need(c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("prod"), Task: first.Tasks[0].TaskArn})).on(t)
	env.Emu.Advance(time.Minute)
	if out := run("big"); len(out.Tasks) != 1 {
		t.Errorf("RunTask after the first task stopped = %s, want a task", jsonOf(t, out))
	}
}

// nameOf returns the last part of an ARN.
func nameOf(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
