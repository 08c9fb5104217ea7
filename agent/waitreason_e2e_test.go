package agent

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

// A rollout waiting on an ECS service behind a target group logs the
// real reason, from ELBv2's target health and the target group's health
// check, once at info while it stays the same, however many times the
// agent checks.
func TestE2EWaitLogsTargetHealthOnce(t *testing.T) {
	x := newECSE2E(t)
	var buf lockedBuffer
	x.agent.log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v1 := x.push(x.files("registry.example.com/shop/web:1.0.0"))
	x.settle("v1 rolled out", x.ended(v1))
	if r := x.rollout(v1); r.State != reconcile.RolloutSucceeded {
		t.Fatalf("v1: %s (%s)", r.State, r.Reason)
	}
	const want = "waiting for web to become healthy: service web: 2 of 2 tasks running; targets initial (health checks pass after 2 × 5 s)"
	levels := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var line struct{ Level, Msg, Message string }
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if line.Msg == "rollout waiting" && line.Message == want {
			levels[line.Level]++
		}
	}
	if levels["INFO"] != 1 {
		t.Errorf("%q logged at info %d time(s), want once (by level: %v); log:\n%s", want, levels["INFO"], levels, buf.String())
	}
}
