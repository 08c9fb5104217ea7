package ecs

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/jibe-dev/jibe/spec"
)

// Normalisation makes a rendered file and the live resource comparable:
// both sides are put in the spec's shape (live state is converted with the
// same JSON names, which drops every field ECS computes), then the
// defaults ECS fills in are filled in on both sides, lists whose order
// does not matter are sorted, and Jibe's own tags are removed.

// Defaults ECS applies when a field is left out.
const (
	defaultNetworkMode    = "bridge"
	defaultProtocol       = "tcp"
	defaultMinHealthy     = 100
	defaultMaxPercent     = 200
	defaultLaunchType     = "EC2"
	defaultScheduling     = "REPLICA"
	defaultPropagateTags  = "SERVICE" // Jibe's default, so tasks carry the revision
	defaultAssignPublicIP = "DISABLED"
)

// normalTaskDef returns a normalised copy of td.
func normalTaskDef(td *spec.ECSTaskDefinition) *spec.ECSTaskDefinition {
	n := *td
	n.NetworkMode = cmp.Or(n.NetworkMode, defaultNetworkMode)
	n.CPU, n.Memory = normalUnits(n.CPU, "vcpu"), normalUnits(n.Memory, "gb")
	n.RequiresCompatibilities = sorted(n.RequiresCompatibilities)
	n.Tags = userTags(n.Tags)
	n.ContainerDefinitions = make([]spec.ContainerDefinition, len(td.ContainerDefinitions))
	for i, c := range td.ContainerDefinitions {
		n.ContainerDefinitions[i] = normalContainer(c, n.NetworkMode)
	}
	return &n
}

// normalContainer fills a container's defaults and sorts its variables.
func normalContainer(c spec.ContainerDefinition, networkMode string) spec.ContainerDefinition {
	if c.Essential == nil {
		t := true
		c.Essential = &t
	}
	c.PortMappings = slices.Clone(c.PortMappings)
	for i := range c.PortMappings {
		pm := &c.PortMappings[i]
		pm.Protocol = cmp.Or(pm.Protocol, defaultProtocol)
		if networkMode == "awsvpc" && pm.HostPort == nil {
			pm.HostPort = pm.ContainerPort
		}
	}
	c.Environment = slices.SortedFunc(slices.Values(c.Environment), func(a, b spec.KeyValuePair) int { return strings.Compare(a.Name, b.Name) })
	c.Secrets = slices.SortedFunc(slices.Values(c.Secrets), func(a, b spec.Secret) int { return strings.Compare(a.Name, b.Name) })
	return c
}

// normalUnits turns "1 vCPU" into "1024" and "2 GB" into "2048", as ECS
// reports them.
func normalUnits(v, unit string) string {
	f := strings.Fields(strings.ToLower(v))
	if len(f) != 2 || f[1] != unit {
		return v
	}
	n, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return v
	}
	return strconv.Itoa(int(n * 1024))
}

// serviceOptions say how a service is compared.
type serviceOptions struct {
	// name is the live service's name (a blue/green or canary slot).
	name string
	// scaled is set when autoscaling owns desiredCount.
	scaled bool
}

// normalService returns a normalised copy of svc.
func normalService(svc *spec.ECSService, o serviceOptions) *spec.ECSService {
	n := *svc
	n.ServiceName, n.Cluster = o.name, ""
	if o.scaled {
		n.DesiredCount = nil
	}
	if n.LaunchType == "" && len(n.CapacityProviderStrategy) == 0 {
		n.LaunchType = defaultLaunchType
	}
	n.SchedulingStrategy = cmp.Or(n.SchedulingStrategy, defaultScheduling)
	n.PropagateTags = cmp.Or(n.PropagateTags, defaultPropagateTags)
	n.DeploymentConfiguration = normalDeployment(n.DeploymentConfiguration)
	n.NetworkConfiguration = normalNetwork(n.NetworkConfiguration)
	n.Tags = userTags(n.Tags)
	return &n
}

// normalDeployment fills ECS's rolling-update defaults.
func normalDeployment(dc *spec.DeploymentConfiguration) *spec.DeploymentConfiguration {
	n := spec.DeploymentConfiguration{}
	if dc != nil {
		n = *dc
	}
	if n.MinimumHealthyPercent == nil {
		v := int32(defaultMinHealthy)
		n.MinimumHealthyPercent = &v
	}
	if n.MaximumPercent == nil {
		v := int32(defaultMaxPercent)
		n.MaximumPercent = &v
	}
	if cb := n.DeploymentCircuitBreaker; cb != nil && !cb.Enable && !cb.Rollback {
		n.DeploymentCircuitBreaker = nil
	}
	return &n
}

// normalNetwork sorts subnets and security groups and fills assignPublicIp.
func normalNetwork(nc *spec.NetworkConfiguration) *spec.NetworkConfiguration {
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return nc
	}
	v := *nc.AwsvpcConfiguration
	v.Subnets, v.SecurityGroups = sorted(v.Subnets), sorted(v.SecurityGroups)
	v.AssignPublicIP = cmp.Or(v.AssignPublicIP, defaultAssignPublicIP)
	return &spec.NetworkConfiguration{AwsvpcConfiguration: &v}
}

// userTags returns the tags that are not Jibe's, sorted by key.
func userTags(tags []spec.Tag) []spec.Tag {
	var out []spec.Tag
	for _, t := range tags {
		if !ownTags[t.Key] {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b spec.Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func sorted(s []string) []string {
	return slices.Sorted(slices.Values(s))
}
