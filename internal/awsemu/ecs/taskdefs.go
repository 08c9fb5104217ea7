package ecs

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

func (s *Service) registerTaskDefinition(c *protocol.Call) (any, error) {
	var in ecs.RegisterTaskDefinitionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	if err := validateTaskDef(&in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	f, ok := r.families[*in.Family]
	if !ok {
		f = &family{name: *in.Family}
		r.families[f.name] = f
		r.fams = append(r.fams, f.name)
	}
	td := &types.TaskDefinition{}
	if err := protocol.Copy(&in, td); err != nil {
		return nil, err
	}
	rev := int32(len(f.revisions) + 1)
	td.Revision = rev
	td.TaskDefinitionArn = aws.String(r.arn(fmt.Sprintf("task-definition/%s:%d", f.name, rev)))
	td.Status = types.TaskDefinitionStatusActive
	td.RegisteredAt = ptrTime(c.Now)
	td.RegisteredBy = aws.String("arn:aws:iam::" + c.Account + ":root")
	td.Compatibilities = compatibilities(in.RequiresCompatibilities)
	f.revisions = append(f.revisions, td)
	r.tags[*td.TaskDefinitionArn] = in.Tags
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: td, Tags: in.Tags}, nil
}

// ecsName is the pattern of task definition families and container names:
// up to 255 letters, numbers, underscores and hyphens.
var ecsName = regexp.MustCompile(`^[a-zA-Z0-9_-]*$`)

// maxNameLength is the longest family or container name ECS accepts.
const maxNameLength = 255

func validateTaskDef(in *ecs.RegisterTaskDefinitionInput) error {
	family := aws.ToString(in.Family)
	switch {
	case family == "":
		return clientError("Family is required.")
	case !ecsName.MatchString(family):
		return clientError("Family contains invalid characters.")
	case len(family) > maxNameLength:
		return clientError("Family name is too long. Up to %d letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.", maxNameLength)
	}
	if len(in.ContainerDefinitions) == 0 {
		return clientError("Container list cannot be empty.")
	}
	for _, cd := range in.ContainerDefinitions {
		if err := validateContainer(cd); err != nil {
			return err
		}
		if err := validatePorts(in.NetworkMode, cd); err != nil {
			return err
		}
	}
	if err := validateFargate(in); err != nil {
		return err
	}
	return validateMemory(in)
}

// validateContainer applies ECS's rules to one container definition: a
// name of ECS's pattern and an image.
func validateContainer(cd types.ContainerDefinition) error {
	name := aws.ToString(cd.Name)
	switch {
	case name == "" || aws.ToString(cd.Image) == "":
		return clientError("Container.name and Container.image should not be null or empty.")
	case !ecsName.MatchString(name) || len(name) > maxNameLength:
		return clientError("Container.name contains invalid characters.")
	}
	return nil
}

// validatePorts applies ECS's rules to a container's port mappings: a
// container port (or range) in each, and in awsvpc and host modes a host
// port that is absent, 0 or the container port.
func validatePorts(mode types.NetworkMode, cd types.ContainerDefinition) error {
	for _, pm := range cd.PortMappings {
		port := aws.ToInt32(pm.ContainerPort)
		if pm.ContainerPortRange == nil && (port < 1 || port > 65535) {
			return clientError("Invalid 'containerPort' setting for container '%s'.", aws.ToString(cd.Name))
		}
		host := aws.ToInt32(pm.HostPort)
		if (mode == types.NetworkModeAwsvpc || mode == types.NetworkModeHost) && host != 0 && host != port {
			return clientError("When networkMode=%s, the host ports and container ports in port mappings must match.", mode)
		}
	}
	return nil
}

// validateMemory requires memory (hard or soft) of every container when
// the task sets none.
func validateMemory(in *ecs.RegisterTaskDefinitionInput) error {
	if aws.ToString(in.Memory) != "" {
		return nil
	}
	for _, cd := range in.ContainerDefinitions {
		if cd.Memory == nil && cd.MemoryReservation == nil {
			return clientError("Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified.", aws.ToString(cd.Name))
		}
	}
	return nil
}

func compatibilities(req []types.Compatibility) []types.Compatibility {
	out := []types.Compatibility{types.CompatibilityEc2}
	for _, c := range req {
		if c == types.CompatibilityFargate {
			out = append(out, types.CompatibilityFargate)
		}
	}
	return out
}

func (s *Service) describeTaskDefinition(c *protocol.Call) (any, error) {
	var in ecs.DescribeTaskDefinitionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	td, ok := r.findTaskDef(aws.ToString(in.TaskDefinition))
	if !ok {
		return nil, clientError("Unable to describe task definition.")
	}
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: td}
	if hasInclude(in.Include, string(types.TaskDefinitionFieldTags)) {
		out.Tags = r.tags[*td.TaskDefinitionArn]
	}
	return out, nil
}

func (s *Service) deregisterTaskDefinition(c *protocol.Call) (any, error) {
	var in ecs.DeregisterTaskDefinitionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	ref := aws.ToString(in.TaskDefinition)
	if !strings.Contains(nameFromArn(ref), ":") {
		return nil, clientError("Invalid revision number. Number: %s", ref)
	}
	td, ok := s.region(c.Scope()).findTaskDef(ref)
	if !ok {
		return nil, clientError("The specified task definition does not exist.")
	}
	if td.Status == types.TaskDefinitionStatusActive {
		td.Status = types.TaskDefinitionStatusInactive
		td.DeregisteredAt = ptrTime(c.Now)
	}
	return &ecs.DeregisterTaskDefinitionOutput{TaskDefinition: td}, nil
}

func (s *Service) listTaskDefinitions(c *protocol.Call) (any, error) {
	var in ecs.ListTaskDefinitionsInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	status := in.Status
	if status == "" {
		status = types.TaskDefinitionStatusActive
	}
	var arns []string
	for _, name := range r.fams {
		if in.FamilyPrefix != nil && !strings.HasPrefix(name, *in.FamilyPrefix) {
			continue
		}
		for _, td := range r.families[name].revisions {
			if td.Status == status {
				arns = append(arns, *td.TaskDefinitionArn)
			}
		}
	}
	if in.Sort == types.SortOrderDesc {
		sort.Sort(sort.Reverse(sort.StringSlice(arns)))
	}
	start, end, next, err := protocol.Page(len(arns), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, err
	}
	return &ecs.ListTaskDefinitionsOutput{TaskDefinitionArns: arns[start:end], NextToken: optString(next)}, nil
}

func (s *Service) listTaskDefinitionFamilies(c *protocol.Call) (any, error) {
	var in ecs.ListTaskDefinitionFamiliesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	var names []string
	for _, name := range r.fams {
		if in.FamilyPrefix != nil && !strings.HasPrefix(name, *in.FamilyPrefix) {
			continue
		}
		if in.Status != types.TaskDefinitionFamilyStatusAll && !familyActive(r.families[name]) {
			continue
		}
		names = append(names, name)
	}
	start, end, next, err := protocol.Page(len(names), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, err
	}
	return &ecs.ListTaskDefinitionFamiliesOutput{Families: names[start:end], NextToken: optString(next)}, nil
}

func familyActive(f *family) bool {
	for _, td := range f.revisions {
		if td.Status == types.TaskDefinitionStatusActive {
			return true
		}
	}
	return false
}
