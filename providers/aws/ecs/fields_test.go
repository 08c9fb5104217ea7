package ecs

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// fireLensTaskDef is a three-container task: the app logging through a
// FireLens router, and a sidecar, with secrets, roles and an ARM runtime.
func fireLensTaskDef(image string) *spec.ECSTaskDefinition {
	td := taskDef(image)
	td.TaskRoleArn = "arn:aws:iam::111111111111:role/task"
	td.CPU, td.Memory = "1 vCPU", "2 GB"
	td.RuntimePlatform = &spec.RuntimePlatform{CPUArchitecture: "ARM64", OperatingSystemFamily: "LINUX"}
	app := &td.ContainerDefinitions[0]
	app.Secrets = []spec.Secret{{Name: "DB", ValueFrom: "arn:aws:ssm:us-east-1:111111111111:parameter/db"}}
	app.Environment = append(app.Environment, spec.KeyValuePair{Name: "A_FIRST", Value: "1"})
	app.LogConfiguration = &spec.LogConfiguration{LogDriver: "awsfirelens",
		Options: map[string]string{"Name": "cloudwatch", "region": "us-east-1", "log_group_name": "/shop/web"}}
	app.DependsOn = []spec.ContainerDependency{{ContainerName: "log-router", Condition: "START"}}
	td.ContainerDefinitions = append(td.ContainerDefinitions,
		spec.ContainerDefinition{Name: "log-router", Image: "amazon/aws-for-fluent-bit:2.32.0", Essential: aws.Bool(true),
			FirelensConfiguration: &spec.FirelensConfiguration{Type: "fluentbit", Options: map[string]string{"enable-ecs-log-metadata": "true"}},
			MemoryReservation:     aws.Int32(50), User: "0"},
		spec.ContainerDefinition{Name: "xray", Image: "amazon/aws-xray-daemon:3", Essential: aws.Bool(false), CPU: 32,
			PortMappings: []spec.PortMapping{{ContainerPort: aws.Int32(2000), Protocol: "udp"}}})
	return td
}

func TestMultiContainerFireLensTaskDefinitionRoundTrips(t *testing.T) {
	r := newRig(t)
	d := r.deployment("rev1", "shop/web:v1", nil)
	d.Target.TaskDefinition = fireLensTaskDef("shop/web:v1")
	r.rollout(d)
	live, err := r.p.taskDef(r.ctx, aws.ToString(r.live("web").TaskDefinition))
	if err != nil {
		t.Fatal(err)
	}
	if len(live.ContainerDefinitions) != 3 || live.ContainerDefinitions[1].FirelensConfiguration == nil ||
		live.ContainerDefinitions[0].LogConfiguration.LogDriver != "awsfirelens" || live.RuntimePlatform.CPUArchitecture != "ARM64" {
		t.Errorf("live task definition lost fields: %s", jsonText(t, live))
	}
	r.env.Emu.ResetRequests()
	if changes, err := r.p.Diff(r.ctx, d); err != nil || len(changes) != 0 {
		t.Errorf("diff after apply = %+v, %v", changes, err)
	}
	if err := r.p.Apply(r.ctx, d); err != nil {
		t.Fatal(err)
	}
	if w := r.writes(); len(w) != 0 {
		t.Errorf("re-apply wrote %+v", w)
	}

	// A change to the router shows as a field of the named container.
	d2 := r.next(d, "rev2", "shop/web:v1")
	d2.Target.TaskDefinition = fireLensTaskDef("shop/web:v1")
	d2.Target.TaskDefinition.ContainerDefinitions[1].FirelensConfiguration.Options["enable-ecs-log-metadata"] = "false"
	changes, err := r.p.Diff(r.ctx, d2)
	if err != nil {
		t.Fatal(err)
	}
	want := "containerDefinitions[log-router].firelensConfiguration.options.enable-ecs-log-metadata"
	if len(changes) != 1 || len(changes[0].Fields) != 1 || changes[0].Fields[0].Path != want {
		t.Errorf("diff = %+v, want %s", changes, want)
	}
}

// TestPlacementRoundTripsOnEC2 places tasks on a container instance: ECS
// refuses placement strategies and constraints on Fargate.
func TestPlacementRoundTripsOnEC2(t *testing.T) {
	r := newRig(t)
	must(t)(r.ecs.RegisterContainerInstance(r.ctx, &awsecs.RegisterContainerInstanceInput{Cluster: aws.String("prod"),
		TotalResources: []ecstypes.Resource{ // an m5.xlarge, as its ECS agent reports it
			{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 4096},
			{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 15736},
		}}))
	d := r.deployment("rev1", "shop/web:v1", nil)
	s := d.Target.Service
	s.LaunchType = "EC2"
	s.PlacementConstraints = []spec.PlacementConstraint{{Type: "memberOf", Expression: "attribute:ecs.os-type == linux"}}
	s.PlacementStrategy = []spec.PlacementStrategy{{Type: "spread", Field: "attribute:ecs.availability-zone"}}
	r.rollout(d)
	if live := r.live("web"); len(live.PlacementStrategy) != 1 || len(live.PlacementConstraints) != 1 {
		t.Errorf("live service lost its placement: %s", jsonText(t, live))
	}
	if changes, err := r.p.Diff(r.ctx, d); err != nil || len(changes) != 0 {
		t.Errorf("diff after apply = %+v, %v", changes, err)
	}
}

func TestCloudMapAndCapacityProvidersRoundTrip(t *testing.T) {
	r := newRig(t)
	cm := r.env.CloudMap()
	op, err := cm.CreateHttpNamespace(r.ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")})
	if err != nil {
		t.Fatal(err)
	}
	r.env.Emu.Advance(time.Second)
	got, err := cm.GetOperation(r.ctx, &sd.GetOperationInput{OperationId: op.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := cm.CreateService(r.ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(got.Operation.Targets["NAMESPACE"]),
		HealthCheckCustomConfig: &sdtypes.HealthCheckCustomConfig{}})
	if err != nil {
		t.Fatal(err)
	}
	d := r.deployment("rev1", "shop/web:v1", nil)
	s := d.Target.Service
	s.LaunchType = ""
	s.CapacityProviderStrategy = []spec.CapacityProviderItem{{CapacityProvider: "FARGATE", Weight: 1, Base: 1}, {CapacityProvider: "FARGATE_SPOT", Weight: 3}}
	s.ServiceRegistries = []spec.ServiceRegistry{{RegistryArn: aws.ToString(reg.Service.Arn), Port: aws.Int32(8080)}}
	s.EnableExecuteCommand, s.PropagateTags = true, "TASK_DEFINITION"
	r.rollout(d)

	live := r.live("web")
	if len(live.CapacityProviderStrategy) != 2 || len(live.ServiceRegistries) != 1 || !live.EnableExecuteCommand || live.PropagateTags != "TASK_DEFINITION" {
		t.Errorf("live service lost fields: %s", jsonText(t, live))
	}
	if changes, err := r.p.Diff(r.ctx, d); err != nil || len(changes) != 0 {
		t.Errorf("diff after apply = %+v, %v", changes, err)
	}
	inst, err := cm.ListInstances(r.ctx, &sd.ListInstancesInput{ServiceId: reg.Service.Id})
	if err != nil || len(inst.Instances) != 2 {
		t.Errorf("cloud map instances = %d, %v; want 2", len(inst.Instances), err)
	}

	// Switching from capacity providers to a launch type needs a new
	// service.
	d2 := r.next(d, "rev2", "shop/web:v1")
	d2.Target.Service = s
	d2.Target.Service.LaunchType, d2.Target.Service.CapacityProviderStrategy = "FARGATE", nil
	changes, err := r.p.Diff(r.ctx, d2)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Action != reconcile.ActionReplace || changes[0].Reason == "" {
		t.Fatalf("diff = %+v, want the service replaced", changes)
	}
	r.until("apply", func() error { return r.p.Apply(r.ctx, d2) })
	r.advance(time.Minute)
	if live := r.live("web"); live == nil || live.LaunchType != "FARGATE" || len(live.CapacityProviderStrategy) != 0 {
		t.Errorf("replaced service: %+v", live)
	}
	if changes, err := r.p.Diff(r.ctx, d2); err != nil || len(changes) != 0 {
		t.Errorf("diff after replacement = %+v, %v", changes, err)
	}
}
