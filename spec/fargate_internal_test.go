package spec

import "testing"

// Every size of AWS's Fargate table is accepted in each form ECS takes,
// and the sizes between its rows are refused.
func TestFargateSizes(t *testing.T) {
	for _, tc := range []struct {
		cpu, memory string
		ok          bool
	}{
		{"256", "512", true}, {".25 vCPU", "0.5 GB", true}, {"256", "2048", true}, {"256", "1536", false},
		{"512", "1 GB", true}, {"0.5 vcpu", "4GB", true}, {"512", "5120", false},
		{"1 vCPU", "8 GB", true}, {"1024", "1024", false},
		{"2 vCPU", "16384", true}, {"2048", "4608", false},
		{"4096", "30 GB", true}, {"4096", "31 GB", false},
		{"8192", "20 GB", true}, {"8 vCPU", "18 GB", false}, {"8192", "64 GB", false},
		{"16 vCPU", "120 GB", true}, {"16384", "40 GB", true}, {"16384", "36 GB", false},
	} {
		cpu, okCPU := parseUnits(tc.cpu, vcpuRE)
		mib, okMem := parseUnits(tc.memory, gbRE)
		size, known := fargateSizeOf(cpu)
		if got := okCPU && okMem && known && size.allows(mib); got != tc.ok {
			t.Errorf("cpu %q memory %q: accepted = %v, want %v", tc.cpu, tc.memory, got, tc.ok)
		}
	}
}
