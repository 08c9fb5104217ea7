package awsemu_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

func TestCloudMapNamespaceOperationCompletesOverTime(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.CloudMap()
	op := need(c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("internal.local"), Vpc: aws.String("vpc-1"),
		Tags: []sdtypes.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})).on(t)
	status := func() *sdtypes.Operation {
		return need(c.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})).on(t).Operation
	}
	if s := status(); s.Status != sdtypes.OperationStatusSubmitted || s.Type != sdtypes.OperationTypeCreateNamespace {
		t.Fatalf("new operation %s", jsonOf(t, s))
	}
	env.Emu.Advance(10 * time.Second)
	if s := status(); s.Status != sdtypes.OperationStatusPending {
		t.Errorf("after 10s: %s", s.Status)
	}
	if n := len(need(c.ListNamespaces(ctx, &sd.ListNamespacesInput{})).on(t).Namespaces); n != 0 {
		t.Errorf("namespace listed before the operation succeeded")
	}
	env.Emu.Advance(30 * time.Second)
	s := status()
	if s.Status != sdtypes.OperationStatusSuccess {
		t.Fatalf("after 40s: %s", s.Status)
	}
	ns := need(c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(s.Targets["NAMESPACE"])})).on(t).Namespace
	if aws.ToString(ns.Name) != "internal.local" || ns.Type != sdtypes.NamespaceTypeDnsPrivate || ns.Properties.DnsProperties.HostedZoneId == nil {
		t.Errorf("namespace %s", jsonOf(t, ns))
	}
	_, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String("ns-ghost")})
	var nnf *sdtypes.NamespaceNotFound
	if !errors.As(err, &nnf) {
		t.Errorf("unknown namespace: got %v, want NamespaceNotFound", err)
	}
}

func TestECSRegistersTasksInCloudMap(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	cm, c := env.CloudMap(), env.ECS()
	op := need(cm.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("apps")})).on(t)
	env.Emu.Advance(time.Second)
	nsID := need(cm.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})).on(t).Operation.Targets["NAMESPACE"]
	svc := need(cm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("api"), NamespaceId: aws.String(nsID),
		HealthCheckCustomConfig: &sdtypes.HealthCheckCustomConfig{}})).on(t).Service
	_, err := cm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("api"), NamespaceId: aws.String(nsID)})
	var dup *sdtypes.ServiceAlreadyExists
	if !errors.As(err, &dup) {
		t.Errorf("duplicate service: got %v, want ServiceAlreadyExists", err)
	}

	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{})).on(t)
	registerApp(t, ctx, c, "api:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{LaunchType: ecstypes.LaunchTypeFargate, ServiceName: aws.String("api"), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(2),
		ServiceRegistries:    []ecstypes.ServiceRegistry{{RegistryArn: svc.Arn}},
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}})).on(t)
	waitStable(t, ctx, env, c, "default", "api")
	found := need(cm.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("apps"), ServiceName: aws.String("api")})).on(t)
	if len(found.Instances) != 2 || found.Instances[0].Attributes["AWS_INSTANCE_IPV4"] == "" || found.Instances[0].Attributes["ECS_SERVICE_NAME"] != "api" {
		t.Fatalf("discovered %s", jsonOf(t, found.Instances))
	}
	id := aws.ToString(found.Instances[0].InstanceId)
	need(cm.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: svc.Id, InstanceId: aws.String(id), Status: sdtypes.CustomHealthStatusUnhealthy})).on(t)
	health := need(cm.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: svc.Id})).on(t)
	if health.Status[id] != sdtypes.HealthStatusUnhealthy {
		t.Errorf("health %v", health.Status)
	}
	if n := len(need(cm.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("apps"), ServiceName: aws.String("api")})).on(t).Instances); n != 1 {
		t.Errorf("healthy instances discovered: %d, want 1", n)
	}

	need(c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("api"), DesiredCount: aws.Int32(0)})).on(t)
	waitStable(t, ctx, env, c, "default", "api")
	if n := len(need(cm.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: svc.Id})).on(t).Instances); n != 0 {
		t.Errorf("%d instances left after scaling to zero", n)
	}
	need(cm.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})).on(t)
}
