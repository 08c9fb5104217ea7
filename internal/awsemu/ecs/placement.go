package ecs

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Placement of EC2 (and EXTERNAL) tasks, as ECS places them: a task runs
// on a container instance with enough of its registered CPU and memory
// left (registered minus what its tasks not yet STOPPED reserve) and none
// of the host ports it binds in use (ports the agent reserves, or bound by
// another task). Placement strategies and constraints are not modelled:
// the first instance that fits takes the task.

// The reasons RunTask gives in its failures, and the words of the service
// event, for each resource an instance lacks.
const (
	reasonCPU    = "RESOURCE:CPU"
	reasonMemory = "RESOURCE:MEMORY"
	reasonPorts  = "RESOURCE:PORTS"
)

var missDetail = map[string]string{
	reasonCPU:    "has insufficient CPU units available.",
	reasonMemory: "has insufficient memory available.",
	reasonPorts:  "is already using a port required by your task.",
}

// reservation is what one task reserves on its container instance.
type reservation struct {
	cpu, memory int
	// ports are the host ports it binds, "tcp/80" or "udp/53".
	ports []string
}

// reservationOf returns what a task of td reserves: the task-level cpu and
// memory when set, otherwise the sum of its containers' (memory: the soft
// memoryReservation when set, else the hard memory), and the host ports
// of its port mappings in bridge (explicit host ports) and host (the
// container ports) network modes.
func reservationOf(td *types.TaskDefinition) reservation {
	var r reservation
	taskCPU, cpuOK := units(aws.ToString(td.Cpu), "vcpu")
	taskMem, memOK := units(aws.ToString(td.Memory), "gb")
	for _, cd := range td.ContainerDefinitions {
		r.cpu += int(cd.Cpu)
		r.memory += int(aws.ToInt32(cmpPtr(cd.MemoryReservation, cd.Memory)))
		for _, pm := range cd.PortMappings {
			if p := hostPort(td.NetworkMode, pm); p != 0 {
				r.ports = append(r.ports, portKey(pm.Protocol, p))
			}
		}
	}
	if td.Cpu != nil && cpuOK {
		r.cpu = taskCPU
	}
	if td.Memory != nil && memOK {
		r.memory = taskMem
	}
	return r
}

// cmpPtr returns a when it is set, else b.
func cmpPtr(a, b *int32) *int32 {
	if a != nil {
		return a
	}
	return b
}

// hostPort returns the host port a port mapping binds, or 0 (a dynamic
// port in bridge mode, or none in awsvpc mode).
func hostPort(mode types.NetworkMode, pm types.PortMapping) int32 {
	switch mode {
	case types.NetworkModeHost:
		return aws.ToInt32(cmpPtr(pm.HostPort, pm.ContainerPort))
	case types.NetworkModeBridge, "":
		return aws.ToInt32(pm.HostPort)
	}
	return 0
}

func portKey(p types.TransportProtocol, port int32) string {
	if p == "" {
		p = types.TransportProtocolTcp
	}
	return string(p) + "/" + strconv.Itoa(int(port))
}

// miss says why a task could not be placed: the instance that came
// closest and the resource it lacks.
type miss struct {
	instance *types.ContainerInstance
	reason   string
}

// event returns the words of the service event after "requirements. ".
func (m *miss) event() string {
	return fmt.Sprintf("The closest matching (container-instance %s) %s", nameFromArn(aws.ToString(m.instance.ContainerInstanceArn)), missDetail[m.reason])
}

// place returns the instance a task of td runs on; nil, nil on Fargate;
// or nil and why not. The cluster must have an instance (see placeable).
func (cl *cluster) place(td *types.TaskDefinition, lt types.LaunchType, cps []types.CapacityProviderStrategyItem) (*types.ContainerInstance, *miss) {
	if onFargate(lt, cps) || td == nil {
		return nil, nil
	}
	need := reservationOf(td)
	var closest *miss
	for _, ci := range cl.instances {
		reason := cl.lacks(ci, need)
		if reason == "" {
			return ci, nil
		}
		if closest == nil {
			closest = &miss{instance: ci, reason: reason}
		}
	}
	return nil, closest
}

// lacks returns what instance ci lacks to take a task reserving need, or
// "".
func (cl *cluster) lacks(ci *types.ContainerInstance, need reservation) string {
	cpu, memory, ports := cl.remaining(ci)
	switch {
	case need.cpu > cpu:
		return reasonCPU
	case need.memory > memory:
		return reasonMemory
	case slices.ContainsFunc(need.ports, func(p string) bool { return ports[p] }):
		return reasonPorts
	}
	return ""
}

// remaining returns the CPU and memory instance ci has left, and the host
// ports in use on it.
func (cl *cluster) remaining(ci *types.ContainerInstance) (cpu, memory int, ports map[string]bool) {
	ports = map[string]bool{}
	for _, r := range ci.RegisteredResources {
		switch aws.ToString(r.Name) {
		case "CPU":
			cpu = int(r.IntegerValue)
		case "MEMORY":
			memory = int(r.IntegerValue)
		case "PORTS", "PORTS_UDP":
			proto := types.TransportProtocolTcp
			if aws.ToString(r.Name) == "PORTS_UDP" {
				proto = types.TransportProtocolUdp
			}
			for _, p := range r.StringSetValue {
				if n, err := strconv.Atoi(p); err == nil {
					ports[portKey(proto, int32(n))] = true
				}
			}
		}
	}
	for _, t := range cl.onInstance(ci) {
		cpu -= t.reserved.cpu
		memory -= t.reserved.memory
		for _, p := range t.reserved.ports {
			ports[p] = true
		}
	}
	return cpu, memory, ports
}

// onInstance returns the tasks on instance ci that are not STOPPED.
func (cl *cluster) onInstance(ci *types.ContainerInstance) []*task {
	var out []*task
	for _, arn := range cl.taskList {
		if t := cl.tasks[arn]; t != nil && t.instance == ci && t.status() != "STOPPED" {
			out = append(out, t)
		}
	}
	return out
}

// described returns instance ci as DescribeContainerInstances shows it:
// with its remaining resources and task counts.
func (cl *cluster) described(ci *types.ContainerInstance) types.ContainerInstance {
	out := *ci
	cpu, memory, ports := cl.remaining(ci)
	out.RemainingResources = nil
	for _, r := range ci.RegisteredResources {
		switch aws.ToString(r.Name) {
		case "CPU":
			r.IntegerValue = int32(cpu)
		case "MEMORY":
			r.IntegerValue = int32(memory)
		case "PORTS", "PORTS_UDP":
			r.StringSetValue = usedPorts(ports, aws.ToString(r.Name) == "PORTS_UDP")
		}
		out.RemainingResources = append(out.RemainingResources, r)
	}
	out.RunningTasksCount, out.PendingTasksCount = 0, 0
	for _, t := range cl.onInstance(ci) {
		if t.status() == "RUNNING" {
			out.RunningTasksCount++
		} else {
			out.PendingTasksCount++
		}
	}
	return out
}

// usedPorts lists the ports in use of one protocol, as ECS shows them in
// remainingResources (the reserved and bound ports).
func usedPorts(ports map[string]bool, udp bool) []string {
	prefix := string(types.TransportProtocolTcp) + "/"
	if udp {
		prefix = string(types.TransportProtocolUdp) + "/"
	}
	var out []string
	for p := range ports {
		if len(p) > len(prefix) && p[:len(prefix)] == prefix {
			out = append(out, p[len(prefix):])
		}
	}
	slices.Sort(out)
	return out
}
