package agent

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/reconcile"
)

// cadenceTick is how far the test moves emulated time between
// reconciles: finer than the cadence it checks.
const cadenceTick = 250 * time.Millisecond

// An ECS health wait is paced by the adaptive cadence, on the emulator's
// clock: after the update the service is described again about a second
// later, then less and less often (doubling to 5 s) while its answer does
// not change, never less often than every 5 s; the step completes within
// one interval of the cadence after the emulator reports the deployment
// steady. The describe calls are counted from the emulator's request log.
func TestE2EECSHealthWaitFollowsTheAdaptiveCadence(t *testing.T) {
	x := newECSE2E(t)
	for _, tg := range []string{x.blue, x.green} {
		if _, err := x.env.ELBv2().ModifyTargetGroupAttributes(t.Context(), &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg),
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("1")}}}); err != nil {
			t.Fatal(err)
		}
	}
	v1 := x.push(rollingFiles(x.files("registry.example.com/shop/web:1.0.0")))
	x.settle("v1 rolled out", x.ended(v1))

	// The image bump: UpdateService, then the health wait.
	mark := len(x.env.Emu.Requests())
	v2 := x.push(rollingFiles(x.files("registry.example.com/shop/web:1.1.0")))
	var agentCalls []awsemu.Request
	collect := func() {
		all := x.env.Emu.Requests()
		agentCalls, mark = append(agentCalls, all[mark:]...), len(all)
	}
	collect()
	var steady time.Time   // when the emulator first reported the deployment steady
	for range 4 * 60 * 4 { // four emulated minutes
		if r := x.rollout(v2); r != nil && r.State.Final() {
			break
		}
		x.clock.Step(cadenceTick)
		x.env.Emu.Advance(cadenceTick)
		if steady.IsZero() && x.serviceSteady() {
			steady = x.env.Emu.Now()
		}
		mark = len(x.env.Emu.Requests()) // the test's own describe is not the agent's
		x.awaitDue()
		x.drain()
		collect()
	}
	r := x.rollout(v2)
	if r == nil || r.State != reconcile.RolloutSucceeded || steady.IsZero() {
		t.Fatalf("v2: %+v, steady at %s", r, steady)
	}

	var update time.Time
	var describes []time.Time
	for _, c := range agentCalls {
		switch {
		case c.Operation == "UpdateService":
			update = c.Time
		case c.Operation == "DescribeServices" && !update.IsZero():
			describes = append(describes, c.Time)
		}
	}
	if update.IsZero() || len(describes) < 3 {
		t.Fatalf("agent calls %s: want an UpdateService and describes after it", ops(agentCalls))
	}
	gaps := []time.Duration{}
	prev := update
	for _, d := range describes {
		if gap := d.Sub(prev); gap > 0 {
			gaps = append(gaps, gap)
		}
		prev = d
	}
	t.Logf("update at %s, steady %s later; describes after the update at gaps %v; succeeded %s after steady",
		update.Format(time.TimeOnly), steady.Sub(update), gaps, r.Updated.Sub(steady))
	if gaps[0] > time.Second+cadenceTick {
		t.Errorf("first describe after the update came %s later, want about 1s", gaps[0])
	}
	if longest := maxDuration(gaps); longest > 5*time.Second+cadenceTick || longest < 4*time.Second {
		t.Errorf("longest interval between describes %s; want the cadence to back off to 5s and no further (gaps %v)", longest, gaps)
	}
	if late := r.Updated.Sub(steady); late > 5*time.Second+cadenceTick {
		t.Errorf("the rollout succeeded %s after the emulator reported the deployment steady, want within one cadence interval (≤ 5s)", late)
	}
}

// rollingFiles turns the canary of ecsE2E.files into a rolling update.
func rollingFiles(files map[string]string) map[string]string {
	spec := files["apps/shop/jibe.yaml"]
	i, j := strings.Index(spec, "      strategy:\n"), strings.Index(spec, "      rollback: automatic\n")
	files["apps/shop/jibe.yaml"] = spec[:i] + "      strategy: {rolling: {}}\n" + spec[j+len("      rollback: automatic\n"):]
	return files
}

// serviceSteady reports whether the emulator describes service web as
// steady: its one deployment COMPLETED with every task running.
func (x *ecsE2E) serviceSteady() bool {
	out, err := x.env.ECS().DescribeServices(x.t.Context(), &awsecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil || len(out.Services) == 0 {
		return false
	}
	s := out.Services[0]
	return len(s.Deployments) == 1 && s.Deployments[0].RolloutState == ecstypes.DeploymentRolloutStateCompleted &&
		s.RunningCount == s.DesiredCount
}

func maxDuration(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// ops lists calls as "Operation@time".
func ops(calls []awsemu.Request) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "%s@%s ", c.Operation, c.Time.Format("15:04:05.000"))
	}
	return b.String()
}
