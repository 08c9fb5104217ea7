package agent

import "testing"

// NewPausedCanaryAgent returns the real agent on the test cluster with
// application shop/shop's canary of a second revision paused in
// production, for the dashboard's browser tests of actions.
func NewPausedCanaryAgent(t *testing.T) *Agent {
	t.Helper()
	e := newE2E(t)
	canary := "{canary: {steps: [{setWeight: 50}, {pause: {duration: 1h}}]}}"
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", canary))
	e.settle("v1 in production", e.final("production", v1))
	v2 := e.push(e.files("registry.example.com/shop/web:2.0.0", canary))
	e.settle("v2 paused in production", e.atPause(v2))
	return e.agent
}
