package ecs

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/jibe-dev/jibe/providers/aws/apidiff"
	"github.com/jibe-dev/jibe/spec"
)

func TestTaskDefinitionNormalisation(t *testing.T) {
	base := func() *spec.ECSTaskDefinition {
		return &spec.ECSTaskDefinition{Family: "web", NetworkMode: "awsvpc", CPU: "1024", Memory: "2048",
			ContainerDefinitions: []spec.ContainerDefinition{{Name: "web", Image: "web:1", Essential: aws.Bool(true),
				PortMappings: []spec.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(80), Protocol: "tcp"}},
				Environment:  []spec.KeyValuePair{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}}}}}
	}
	for _, tc := range []struct {
		name string
		edit func(*spec.ECSTaskDefinition)
		want []string // changed paths
	}{
		{"identical", func(*spec.ECSTaskDefinition) {}, nil},
		{"defaults left out", func(td *spec.ECSTaskDefinition) {
			c := &td.ContainerDefinitions[0]
			c.Essential, c.PortMappings[0].HostPort, c.PortMappings[0].Protocol = nil, nil, ""
		}, nil},
		{"units written as vCPU and GB", func(td *spec.ECSTaskDefinition) { td.CPU, td.Memory = "1 vCPU", "2 GB" }, nil},
		{"variables in another order", func(td *spec.ECSTaskDefinition) {
			e := td.ContainerDefinitions[0].Environment
			e[0], e[1] = e[1], e[0]
		}, nil},
		{"Jibe's tags", func(td *spec.ECSTaskDefinition) { td.Tags = []spec.Tag{{Key: TagRevision, Value: "other"}} }, nil},
		{"false equals unset", func(td *spec.ECSTaskDefinition) { td.ContainerDefinitions[0].Privileged = aws.Bool(false) }, nil},
		{"image", func(td *spec.ECSTaskDefinition) { td.ContainerDefinitions[0].Image = "web:2" }, []string{"containerDefinitions[web].image"}},
		{"variable", func(td *spec.ECSTaskDefinition) { td.ContainerDefinitions[0].Environment[1].Value = "3" },
			[]string{"containerDefinitions[web].environment[B].value"}},
		{"not essential", func(td *spec.ECSTaskDefinition) { td.ContainerDefinitions[0].Essential = aws.Bool(false) },
			[]string{"containerDefinitions[web].essential"}},
		{"user tag", func(td *spec.ECSTaskDefinition) { td.Tags = []spec.Tag{{Key: "team", Value: "core"}} }, []string{"tags[team].key", "tags[team].value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			desired := base()
			tc.edit(desired)
			got, err := apidiff.Fields("", normalTaskDef(base()), normalTaskDef(desired))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("changes %+v, want paths %v", got, tc.want)
			}
			for i, c := range got {
				if c.Path != tc.want[i] {
					t.Errorf("path %s, want %s", c.Path, tc.want[i])
				}
			}
		})
	}
}

func TestServiceNormalisationAndReplacement(t *testing.T) {
	live := func() *spec.ECSService {
		return &spec.ECSService{ServiceName: "web", DesiredCount: aws.Int32(2), LaunchType: "FARGATE", PropagateTags: "SERVICE",
			SchedulingStrategy: "REPLICA",
			NetworkConfiguration: &spec.NetworkConfiguration{AwsvpcConfiguration: &spec.AwsVpcConfiguration{
				Subnets: []string{"a", "b"}, AssignPublicIP: "DISABLED"}},
			DeploymentConfiguration: &spec.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200),
				DeploymentCircuitBreaker: &spec.CircuitBreaker{}}}
	}
	for _, tc := range []struct {
		name    string
		edit    func(*spec.ECSService)
		scaled  bool
		paths   int
		replace bool
	}{
		{"defaults left out", func(s *spec.ECSService) {
			s.PropagateTags, s.SchedulingStrategy, s.DeploymentConfiguration = "", "", nil
			s.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIP = ""
			s.NetworkConfiguration.AwsvpcConfiguration.Subnets = []string{"b", "a"}
		}, false, 0, false},
		{"count owned by autoscaling", func(s *spec.ECSService) { s.DesiredCount = aws.Int32(9) }, true, 0, false},
		{"count", func(s *spec.ECSService) { s.DesiredCount = aws.Int32(9) }, false, 1, false},
		{"grace period", func(s *spec.ECSService) { s.HealthCheckGracePeriodSeconds = aws.Int32(60) }, false, 1, false},
		{"launch type", func(s *spec.ECSService) { s.LaunchType = "EC2" }, false, 1, true},
		{"to capacity providers", func(s *spec.ECSService) {
			s.LaunchType, s.CapacityProviderStrategy = "", []spec.CapacityProviderItem{{CapacityProvider: "FARGATE_SPOT", Weight: 1}}
		}, false, 3, true},
		{"scheduling", func(s *spec.ECSService) { s.SchedulingStrategy = "DAEMON" }, false, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			desired := live()
			tc.edit(desired)
			o := serviceOptions{name: "web", scaled: tc.scaled}
			got, err := apidiff.Fields("", normalService(live(), o), normalService(desired, o))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.paths {
				t.Errorf("changes %+v, want %d", got, tc.paths)
			}
			if why := replacement(got); (why != "") != tc.replace {
				t.Errorf("replacement %q, want %v", why, tc.replace)
			}
		})
	}
}
