package artifacts_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/providers/aws/artifacts"
)

// BenchmarkPass500Repositories watches 1000 applications over 500 ECR
// repositories (every repository used by two applications, of two
// sources), each repository holding 30 tags: a pass after the interval
// makes one DescribeImages call per repository (counted by
// internal/apimetrics, as the agent's /metrics does; reported as
// describes/pass), a pass within it none. It also reports the
// proposals of a pass where every repository has a newer tag.
func BenchmarkPass500Repositories(b *testing.B) {
	const repos, tags = 500, 30
	ctx := context.Background()
	r := newRig(b)
	var apps []artifacts.App
	for i := range repos {
		repo := fmt.Sprintf("team%d/svc", i)
		for t := range tags {
			if _, err := r.env.Emu.PushImage(image(stagingID, fmt.Sprintf("%s:1.%d.0", repo, t)), ""); err != nil {
				b.Fatal(err)
			}
		}
		yaml := fmt.Sprintf("    web:\n      image: %s\n      update: {semver: \"^1\"}", image(stagingID, repo+":1.0.0"))
		apps = append(apps, app(b, "shop", fmt.Sprintf("a%d", i), yaml), app(b, "team", fmt.Sprintf("b%d", i), yaml))
	}
	before := sdkCalls(b, "ECR", "DescribeImages")
	changes := 0
	b.ResetTimer()
	for b.Loop() {
		r.clock.Step(5 * time.Minute)
		res := r.w.Pass(ctx, r.cfg, apps)
		changes = len(res.Changes["shop"]) + len(res.Changes["team"])
		if len(res.Problems) > 0 {
			b.Fatal(res.Problems[0])
		}
		r.w.Pass(ctx, r.cfg, apps) // within the interval: no read
	}
	b.StopTimer()
	perPass := float64(sdkCalls(b, "ECR", "DescribeImages")-before) / float64(b.N)
	if perPass != repos {
		b.Fatalf("%.1f DescribeImages per pass, want one per repository (%d)", perPass, repos)
	}
	b.ReportMetric(perPass, "describes/pass")
	b.ReportMetric(float64(changes), "changes/pass")
}
