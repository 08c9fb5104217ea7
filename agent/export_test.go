package agent

import (
	"testing"

	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/reconcile"
)

// ECSRig exports the ECS end-to-end rig (ecsE2E) to the package's
// external tests (the dashboard's browser tests), which import packages
// that import this one.
type ECSRig struct{ x *ecsE2E }

// NewECSRig starts the real agent with the real ECS platform and
// CloudWatch checks on the AWS emulator (see newECSE2E).
func NewECSRig(t *testing.T) *ECSRig { return &ECSRig{newECSE2E(t)} }

// Agent returns the rig's agent.
func (r *ECSRig) Agent() *Agent { return r.x.agent }

// Clock returns the agent's emulated clock.
func (r *ECSRig) Clock() clock.PassiveClock { return r.x.clock }

// Files returns the canary application at image (see ecsE2E.files).
func (r *ECSRig) Files(image string) map[string]string { return r.x.files(image) }

// Push commits files, polls and reconciles; it returns the commit.
func (r *ECSRig) Push(files map[string]string) string { return r.x.push(files) }

// BreakImage makes the emulator answer half the requests to image's
// tasks with 5xx.
func (r *ECSRig) BreakImage(image string) { r.x.env.Emu.SetImageErrorRate(image, 0.5) }

// Settle reconciles, moving emulated time on, until done.
func (r *ECSRig) Settle(what string, done func() bool) { r.x.settle(what, done) }

// Ended reports whether production's rollout of revision has ended.
func (r *ECSRig) Ended(revision string) func() bool { return r.x.ended(revision) }

// Rollout returns production's latest rollout when it is of revision.
func (r *ECSRig) Rollout(revision string) *reconcile.Rollout { return r.x.rollout(revision) }

// NewBenchAgent returns an agent holding n applications of 3
// environments each, with journaled rollouts (see apiBenchAgent).
func NewBenchAgent(b testing.TB, n int) *Agent { return apiBenchAgent(b, n).agent }

// MatrixFailure and MatrixRollback are the reasons NewMatrixAgent's
// failed and rolled-back rollouts give.
const (
	MatrixFailure  = "web: ProgressDeadlineExceeded: ReplicaSet web-7d9 has timed out progressing"
	MatrixRollback = "canary 5xx rate: 12.5 above max 5"
)

// NewMatrixAgent returns the bench agent (see benchAgent) with six
// applications whose environments are in every state a rollout takes
// through dev, staging and production: app0000 in sync everywhere,
// app0001 rolling out in production, app0002 rolled back in staging
// (production waiting behind it), app0003 failed in dev, app0004 rolling
// out in dev, app0005 in sync in dev and staging, not yet in production.
func NewMatrixAgent(t testing.TB) *Agent {
	none := benchFate{None: true}
	fates := []map[string]benchFate{
		{"production": {State: reconcile.RolloutSucceeded}},
		{},
		{"staging": {State: reconcile.RolloutRolledBack, Reason: MatrixRollback}, "production": none},
		{"dev": {State: reconcile.RolloutFailed, Reason: MatrixFailure}, "staging": none, "production": none},
		{"dev": {State: reconcile.RolloutRunning}, "staging": none, "production": none},
		{"production": none},
	}
	return benchAgent(t, len(fates), func(i int, env string) benchFate { return fates[i][env] }).agent
}
