package ecs

import (
	"fmt"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

// fleet deploys n services of one task definition in cluster prod.
func fleet(tb testing.TB, r *rig, n int) []*reconcile.Deployment {
	tb.Helper()
	ds := make([]*reconcile.Deployment, n)
	for i := range ds {
		d := r.deployment("rev1", "shop/web:v1", nil)
		d.Target.Name = fmt.Sprintf("svc-%03d", i)
		d.Target.Service.ServiceName = d.Target.Name
		d.Target.Service.LoadBalancers = nil
		if err := r.p.Apply(r.ctx, d); err != nil {
			tb.Fatal(err)
		}
		ds[i] = d
	}
	r.env.Emu.Advance(time.Minute)
	return ds
}

// describeServicesCalls counts the DescribeServices calls the platform
// made since the last reset: calls, not attempts, since an SDK retry of a
// call is not a batching decision.
func describeServicesCalls(r *rig) int { return r.ops.get("DescribeServices") }

func TestDiffOf200ServicesBatchesDescribeServices(t *testing.T) {
	r := newRig(t)
	ds := fleet(t, r, 200)
	r.env.Emu.ResetRequests()
	r.ops.reset()
	all, err := r.p.DiffAll(r.ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	for i, changes := range all {
		if len(changes) != 0 {
			t.Fatalf("service %d: %+v", i, changes)
		}
	}
	if n := describeServicesCalls(r); n > 20 {
		t.Errorf("%d DescribeServices calls, want at most 20", n)
	}
	if w := r.writes(); len(w) != 0 {
		t.Errorf("diff wrote %+v", w)
	}
	t.Logf("diff of 200 services: %d requests, %d DescribeServices calls", len(r.env.Emu.Requests()), describeServicesCalls(r))
}

func BenchmarkDiff200Services(b *testing.B) {
	r := newRig(b)
	ds := fleet(b, r, 200)
	r.env.Emu.ResetRequests()
	r.ops.reset()
	for b.Loop() {
		if _, err := r.p.DiffAll(r.ctx, ds); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(describeServicesCalls(r))/float64(b.N), "DescribeServices/op")
}
