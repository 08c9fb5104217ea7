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
func NewBenchAgent(b *testing.B, n int) *Agent { return apiBenchAgent(b, n).agent }

// NewMatrixAgent returns the real agent on the test cluster with
// applications brought by real rollouts into different states (see
// matrixE2E): checkout in sync, cart rolled back in staging with
// production waiting behind it, search paused at its canary in production.
func NewMatrixAgent(t *testing.T) *Agent { return newMatrixE2E(t).agent }
