package ecs

import (
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// fargateMemory gives, per task CPU units, the memory sizes (MiB) Fargate
// accepts: from, to and step.
var fargateMemory = map[int][3]int{
	256:   {512, 2048, 0}, // 512, 1024, 2048
	512:   {1024, 4096, 1024},
	1024:  {2048, 8192, 1024},
	2048:  {4096, 16384, 1024},
	4096:  {8192, 30720, 1024},
	8192:  {16384, 61440, 4096},
	16384: {32768, 122880, 8192},
}

// fargateCombination reports whether Fargate offers cpu units with memory
// MiB.
func fargateCombination(cpu, memory int) bool {
	r, ok := fargateMemory[cpu]
	if !ok || memory < r[0] || memory > r[1] {
		return false
	}
	if r[2] == 0 {
		return memory == 512 || memory == 1024 || memory == 2048
	}
	return (memory-r[0])%r[2] == 0
}

// units parses a task size: an integer, or a number with a unit ("1
// vCPU" = 1024, "2 GB" = 2048).
func units(s, unit string) (int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	f, u, ok := strings.Cut(s, " ")
	if !ok || !strings.EqualFold(strings.TrimSpace(u), unit) {
		return 0, false
	}
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return 0, false
	}
	return int(v * 1024), true
}

// validateFargate applies Fargate's rules to a task definition that
// requires FARGATE compatibility, with RegisterTaskDefinition's errors.
func validateFargate(in *ecs.RegisterTaskDefinitionInput) error {
	if !slices.Contains(in.RequiresCompatibilities, types.CompatibilityFargate) {
		return nil
	}
	if in.NetworkMode != types.NetworkModeAwsvpc {
		return clientError("Fargate only supports network mode 'awsvpc'.")
	}
	if aws.ToString(in.Cpu) == "" {
		return clientError("Fargate requires that 'cpu' be defined at the task level.")
	}
	if aws.ToString(in.Memory) == "" {
		return clientError("Fargate requires that 'memory' be defined at the task level.")
	}
	cpu, okc := units(*in.Cpu, "vCPU")
	mem, okm := units(*in.Memory, "GB")
	if !okc || !okm || !fargateCombination(cpu, mem) {
		return clientError("No Fargate configuration exists for given values: %s CPU, %s memory. See the Amazon ECS documentation for the valid values.", *in.Cpu, *in.Memory)
	}
	return nil
}

// checkServiceParams applies CreateService's and UpdateService's rules
// between the launch type, capacity provider strategy, placement and the
// task definition's network mode, with InvalidParameterException.
func checkServiceParams(svc *types.Service, td *types.TaskDefinition) error {
	if svc.LaunchType != "" && len(svc.CapacityProviderStrategy) > 0 {
		return invalidParameter("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	if td == nil {
		return nil
	}
	fargate := onFargate(svc.LaunchType, svc.CapacityProviderStrategy)
	if fargate && !slices.Contains(td.Compatibilities, types.CompatibilityFargate) {
		return invalidParameter("Task definition does not support launch_type FARGATE.")
	}
	if fargate && (len(svc.PlacementStrategy) > 0 || len(svc.PlacementConstraints) > 0) {
		return invalidParameter("Task placement strategies and constraints are not supported with FARGATE launch type.")
	}
	awsvpc := td.NetworkMode == types.NetworkModeAwsvpc
	hasNet := svc.NetworkConfiguration != nil && svc.NetworkConfiguration.AwsvpcConfiguration != nil
	if awsvpc && !hasNet {
		return invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	if !awsvpc && hasNet {
		return invalidParameter("Network Configuration is not valid for the given networkMode of this task definition.")
	}
	if hasNet && len(svc.NetworkConfiguration.AwsvpcConfiguration.Subnets) == 0 {
		return invalidParameter("subnets can not be empty.")
	}
	return nil
}
