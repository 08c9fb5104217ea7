package lambda

import (
	"testing"

	"github.com/jibe-dev/jibe/spec"
)

// BenchmarkCanaryStep measures one canary step (ShiftTraffic: reading the
// function, its versions and alias, then one UpdateAlias) against the
// emulator: what Jibe adds to a step beyond Lambda's own update time.
func BenchmarkCanaryStep(b *testing.B) {
	r := newRig(b, Options{})
	v1 := r.deployment("rev1", function("orders-1.zip"), canary())
	r.rollout(v1)
	v2 := r.next(v1, "rev2", function("orders-2.zip"))
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	weights := []spec.Percent{10, 50}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := r.p.ShiftTraffic(r.ctx, v2, weights[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}
