package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// fargateSize is one row of Fargate's task sizes: the memory (MiB) a task
// of cpu units may have, from min to max in steps of step.
type fargateSize struct {
	cpu, min, max, step int
}

// fargateSizes are the task sizes Fargate runs, as the ECS Developer
// Guide ("Troubleshoot Amazon ECS task definition invalid CPU or memory
// errors") and the RegisterTaskDefinition reference give them; any other
// cpu and memory is refused with "Invalid 'cpu' setting for task" or "No
// Fargate configuration exists for given values". 8192 and 16384 need
// Linux platform version 1.4.0 or later.
var fargateSizes = []fargateSize{
	{256, 512, 2048, 512},      // 512, 1024 and 2048 MiB only (see allows)
	{512, 1024, 4096, 1024},    // 1 to 4 GB
	{1024, 2048, 8192, 1024},   // 2 to 8 GB
	{2048, 4096, 16384, 1024},  // 4 to 16 GB in 1 GB steps
	{4096, 8192, 30720, 1024},  // 8 to 30 GB in 1 GB steps
	{8192, 16384, 61440, 4096}, // 16 to 60 GB in 4 GB steps
	{16384, 32768, 122880, 8192},
}

// allows reports whether a task of s.cpu units may have mib of memory.
func (s fargateSize) allows(mib int) bool {
	if s.cpu == 256 {
		return mib == 512 || mib == 1024 || mib == 2048
	}
	return mib >= s.min && mib <= s.max && (mib-s.min)%s.step == 0
}

// describe words the memory a task of s.cpu units may have.
func (s fargateSize) describe() string {
	if s.cpu == 256 {
		return "512, 1024 or 2048 MiB"
	}
	return fmt.Sprintf("%d to %d MiB in steps of %d (%d to %d GB)", s.min, s.max, s.step, s.min/1024, s.max/1024)
}

// The forms ECS accepts for task-level cpu and memory: an integer (CPU
// units, MiB) or a number with a unit ("1 vCPU", "0.5 GB").
var (
	vcpuRE = regexp.MustCompile(`(?i)^\s*(\d*\.?\d+)\s*vcpu\s*$`)
	gbRE   = regexp.MustCompile(`(?i)^\s*(\d*\.?\d+)\s*gb\s*$`)
)

// parseUnits parses a task's cpu (units; "1 vCPU" is 1024) or memory
// (MiB; "1 GB" is 1024). re is the form with a unit.
func parseUnits(s string, re *regexp.Regexp) (int, bool) {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n, n > 0
	}
	m := re.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil || f <= 0 {
		return 0, false
	}
	return int(f * 1024), f*1024 == float64(int(f*1024))
}

// checkFargate checks the rules Fargate adds to a task definition and its
// service: task-level cpu and memory of one of Fargate's sizes, and no
// placement strategies or constraints.
func (l *loader) checkFargate(tdDoc, svcDoc *strictyaml.Document, td *ECSTaskDefinition, svc *ECSService) {
	add := func(doc *strictyaml.Document, field, format string, args ...any) {
		l.errs = append(l.errs, doc.Errorf(field, format, args...))
	}
	l.checkFargateSize(tdDoc, td)
	if len(td.PlacementConstraints) > 0 {
		add(tdDoc, "placementConstraints", "Fargate places tasks itself and refuses placementConstraints; remove them, or run on EC2")
	}
	if len(svc.PlacementConstraints) > 0 {
		add(svcDoc, "placementConstraints", "Fargate places tasks itself and refuses placementConstraints; remove them, or run on EC2")
	}
	if len(svc.PlacementStrategy) > 0 {
		add(svcDoc, "placementStrategy", "Fargate spreads tasks over Availability Zones itself and refuses placementStrategy; remove it, or run on EC2")
	}
}

// checkFargateSize checks that a Fargate task's cpu and memory are one of
// Fargate's sizes.
func (l *loader) checkFargateSize(doc *strictyaml.Document, td *ECSTaskDefinition) {
	add := func(field, format string, args ...any) {
		l.errs = append(l.errs, doc.Errorf(field, format, args...))
	}
	switch {
	case td.CPU == "" && td.Memory == "":
		add("cpu", "Fargate tasks need task-level cpu and memory, such as cpu: \"256\" and memory: \"512\"")
		return
	case td.CPU == "":
		add("cpu", "Fargate tasks need task-level cpu as well as memory; set cpu, such as cpu: \"256\" (0.25 vCPU)")
		return
	case td.Memory == "":
		add("memory", "Fargate tasks need task-level memory as well as cpu; set memory, such as memory: \"512\" (MiB) or \"1 GB\"")
		return
	}
	cpu, ok := parseUnits(td.CPU, vcpuRE)
	size, known := fargateSizeOf(cpu)
	if !ok || !known {
		add("cpu", "cpu %q is not a Fargate task size; use 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units (or 0.25, 0.5, 1, 2, 4, 8 or 16 vCPU)", td.CPU)
		return
	}
	mib, ok := parseUnits(td.Memory, gbRE)
	if !ok {
		add("memory", "memory %q is not a size; write MiB, such as \"2048\", or GB, such as \"2 GB\"", td.Memory)
		return
	}
	if !size.allows(mib) {
		add("memory", "memory %d MiB does not fit Fargate's cpu %d: with that cpu, memory is %s; change memory, or pick the cpu that fits it",
			mib, cpu, size.describe())
	}
}

func fargateSizeOf(cpu int) (fargateSize, bool) {
	for _, s := range fargateSizes {
		if s.cpu == cpu {
			return s, true
		}
	}
	return fargateSize{}, false
}
