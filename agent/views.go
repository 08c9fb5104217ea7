package agent

import (
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

// The values below are what the API (/api/v1, docs/api.md) serves as
// JSON and what the dashboard renders: both call the same Agent methods
// (Applications, Application, Rollout, History, Sources), which read
// what the agent already holds (its state, the journal, what sources and
// platforms last observed) and never ask a platform anything.

// AppView is what the API shows of one application: which revision runs
// in each environment and which one Git wants there. Source and Name
// identify it (ID is "source/name"): two sources may each have an
// application of the same name.
type AppView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Source string `json:"source"`
	Folder string `json:"folder"`
	// Revision is the latest revision of the application's folder: what
	// Git wants every environment to run.
	Revision string `json:"revision"`
	// PullRequest is the number of the pull request that brought Revision,
	// when its commit message names one.
	PullRequest int `json:"pullRequest,omitempty"`
	// Error is the last reconcile error (invalid spec, refused target...).
	Error string `json:"error,omitempty"`
	// State sums the environments up: the state of the first environment
	// that is not "succeeded" ("failed", "rolled-back", "running",
	// "pending"...), "error" when Error is set, "succeeded" when every
	// environment runs Revision.
	State string `json:"state"`
	// Environments are in promotion order, every environment of the spec
	// included, started or not.
	Environments []EnvView `json:"environments"`
	// LiveMissing, when several agents share the journal
	// (state.kubernetes), says why this view lacks what only the
	// application's owner knows live (what a step waits for, drift, the
	// targets' health and instances): the agent that owns it did not
	// answer in time, or no agent owns it at the moment. The rest is the
	// shared journal's; a running environment's Waiting says the same.
	LiveMissing string `json:"liveMissing,omitempty"`
}

// The states of an environment (EnvView.State) besides the rollout
// states (reconcile.RolloutState: running, succeeded, failed, rolled-back,
// superseded).
const (
	// StatePending: the environment has not started the wanted revision;
	// it waits for the environment named by EnvView.PendingOn.
	StatePending = "pending"
	// StateError: the application cannot be reconciled (AppView.Error).
	StateError = "error"
)

// EnvView is one environment of an application: what runs there, what Git
// wants there, and its latest rollout.
type EnvView struct {
	Name string `json:"name"`
	// Revision is the revision that runs: the last one that succeeded
	// (LastGood), never one that was rolled back or is still rolling
	// out; "" when none ever succeeded.
	Revision string `json:"revision"`
	// State is the latest rollout's state (running, succeeded, failed,
	// rolled-back, superseded), or "pending" while the environment waits
	// for an earlier one to run the wanted revision.
	State string `json:"state"`
	// PendingOn names the environment a pending one waits for.
	PendingOn string `json:"pendingOn,omitempty"`
	// Running is the version that runs (Revision with its artifacts); nil
	// when nothing ever succeeded there.
	Running *VersionView `json:"running,omitempty"`
	// Wanted is the version Git wants there: the application's latest
	// revision, with its artifacts.
	Wanted *VersionView `json:"wanted,omitempty"`
	// LastGood is the revision of the last rollout that succeeded, which
	// a rollback restores.
	LastGood string `json:"lastGood,omitempty"`
	// Rollout sums up the latest rollout; nil before the first. Rollout
	// (GET .../environments/{env}/rollout) gives all of it.
	Rollout *RolloutSummary `json:"rollout,omitempty"`
	// Step is the step the rollout is at, while it runs.
	Step string `json:"step,omitempty"`
	// Waiting says what the step waits for, e.g. who must approve.
	Waiting string `json:"waiting,omitempty"`
	// Hold says why the environment does not roll out now: a pause
	// (POST .../pause), an open freeze window (until when), or a rollback
	// it is held at until a new commit.
	Hold string `json:"hold,omitempty"`
	// Reason explains a failure, a rollback or a refusal.
	Reason  string    `json:"reason,omitempty"`
	Updated time.Time `json:"updated,omitzero"`
	// Drift lists the resources that differ from Git, as last observed.
	Drift []string `json:"drift,omitempty"`
	// Targets are the environment's targets with their instances as
	// their platforms last observed them.
	Targets []TargetView `json:"targets,omitempty"`
}

// VersionView is a revision of an application and the version of each
// of its artifacts at that revision.
type VersionView struct {
	Revision string `json:"revision"`
	// PullRequest is the number of the pull request that brought the
	// revision, when known.
	PullRequest int `json:"pullRequest,omitempty"`
	// Artifacts are the spec's artifacts at the revision, by name; nil when
	// the agent has not loaded that revision (after a restart, until a
	// reconcile needs it).
	Artifacts []ArtifactView `json:"artifacts,omitempty"`
}

// ArtifactView is one artifact of a revision.
type ArtifactView struct {
	Name string `json:"name"`
	// Kind is image, s3 or ami.
	Kind string `json:"kind"`
	// Ref is the whole reference: the image, s3://bucket/key, the AMI ID.
	Ref string `json:"ref"`
	// Version is what tells versions apart: the image's tag or digest,
	// the S3 object's version, the AMI ID.
	Version string `json:"version,omitempty"`
}

// RolloutSummary is the gist of a rollout, for the matrix.
type RolloutSummary struct {
	ID       string `json:"id"`
	Revision string `json:"revision"`
	State    string `json:"state"`
	// Strategy is the environment's strategy; Mode the one the rollout
	// runs in (rolling for a first deploy of a canary).
	Strategy string `json:"strategy"`
	Mode     string `json:"mode"`
	// Step is the index of the current step in Steps (Rollout), -1 once
	// the rollout has ended; Steps how many there are.
	Step  int `json:"step"`
	Steps int `json:"steps"`
	// Weight is the new version's share of traffic now, in percent, when
	// the rollout shifts traffic.
	Weight *float64 `json:"weight,omitempty"`
	// Correction marks a rollout that corrects drift.
	Correction bool      `json:"correction,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Started    time.Time `json:"started"`
	Updated    time.Time `json:"updated"`
}

// TargetView is one target of an environment and its instances.
type TargetView struct {
	Name string `json:"name"`
	// Platform is kubernetes, ecs, lambda or asg.
	Platform string `json:"platform"`
	// Health is the last observed health (progressing, healthy, failed),
	// "" when no rollout of this agent observed it yet; Reason is the
	// platform's words.
	Health string `json:"health,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Instances are the counts of that observation.
	Instances *reconcile.Instances `json:"instances,omitempty"`
	// Observed is when; the agent does not poll platforms for the API:
	// health is observed while a rollout waits for it.
	Observed time.Time `json:"observed,omitzero"`
}

// RolloutView is everything about one rollout: its plan, where it is,
// the traffic it has shifted and what its checks measured.
type RolloutView struct {
	RolloutSummary
	App string `json:"app"`
	Env string `json:"env"`
	// PullRequest is the number of the pull request that brought the
	// revision, when known.
	PullRequest int `json:"pullRequest,omitempty"`
	// FirstDeploy: nothing ran before, so a canary or blue/green runs
	// rolling.
	FirstDeploy bool `json:"firstDeploy,omitempty"`
	// RollingBack is set while a failure's rollback runs.
	RollingBack bool `json:"rollingBack,omitempty"`
	// Changes are what the rollout changes, per target.
	Changes []reconcile.Change `json:"changes,omitempty"`
	// Steps are the plan's steps, each with how it went.
	Steps []StepView `json:"steps"`
	// Traffic is the new version's share of traffic over time: one point
	// per shift-traffic step done (and 0 at a rollback).
	Traffic []WeightPoint `json:"traffic,omitempty"`
	// Analyses are the checks of verify steps with their measurements.
	Analyses []AnalysisView `json:"analyses,omitempty"`
	// Waiting is what the current step waits for; nil when it waits for
	// nothing.
	Waiting *WaitView `json:"waiting,omitempty"`
	// LiveMissing is as in AppView: why this view lacks what only the
	// owner knows live (Waiting's message then says the same).
	LiveMissing string `json:"liveMissing,omitempty"`
}

// StepView is one step of a rollout's plan.
type StepView struct {
	Index int `json:"index"`
	// Kind is the step's kind (apply, wait-healthy, shift-traffic, pause,
	// verify, await-approval, promote, cleanup).
	Kind   string `json:"kind"`
	Target string `json:"target,omitempty"`
	// Weight is a shift-traffic step's weight; Duration a pause's or a
	// cleanup's wait; Check a verify step's check name.
	Weight   *float64 `json:"weight,omitempty"`
	Duration string   `json:"duration,omitempty"`
	Check    string   `json:"check,omitempty"`
	// State is done, current, failed or pending (not reached; a step
	// left when the rollout ended stays pending).
	State    string    `json:"state"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// Error is why the step failed.
	Error string `json:"error,omitempty"`
}

// The states of a step (StepView.State).
const (
	StepDone    = "done"
	StepCurrent = "current"
	StepFailed  = "failed"
	StepPending = "pending"
)

// WeightPoint is the new version's share of traffic from At on.
type WeightPoint struct {
	At     time.Time `json:"at"`
	Weight float64   `json:"weight"`
}

// AnalysisView is a verify step's check and its readings against its
// threshold.
type AnalysisView struct {
	// Step is the verify step's index.
	Step  int    `json:"step"`
	Check string `json:"check"`
	// Kind is http, cloudWatch, alarm or prometheus.
	Kind string `json:"kind"`
	// Min and Max are the threshold's bounds, when it has them.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Threshold says the bounds for people ("[1, 5]", "max 5").
	Threshold string `json:"threshold,omitempty"`
	// Interval and Duration are how often and how long it measures.
	Interval string `json:"interval,omitempty"`
	Duration string `json:"duration,omitempty"`
	// Measurements are the readings, oldest first.
	Measurements []reconcile.Measurement `json:"measurements"`
}

// WaitView is what a waiting step waits for.
type WaitView struct {
	// Step is the waiting step's index.
	Step int `json:"step"`
	// Message is the engine's words, e.g. "1 of 2 approvals".
	Message string `json:"message"`
	// Approvers say who may approve an await-approval step: GitHub users,
	// teams (org/slug) and the least repository permission.
	Approvers *ApproversView `json:"approvers,omitempty"`
	// PullRequest is the pull request whose reviews approve the revision.
	PullRequest int `json:"pullRequest,omitempty"`
	// Until is when a pause or cleanup wait ends, or an approval times out.
	Until time.Time `json:"until,omitzero"`
}

// ApproversView is who may approve.
type ApproversView struct {
	Reviews    int      `json:"reviews"`
	Users      []string `json:"users,omitempty"`
	Teams      []string `json:"teams,omitempty"`
	Permission string   `json:"permission,omitempty"`
}

// HistoryView is a page of an environment's past rollouts, newest first.
type HistoryView struct {
	App      string         `json:"app"`
	Env      string         `json:"env"`
	Rollouts []HistoryEntry `json:"rollouts"`
	// Next is the cursor of the next (older) page, for ?before=; "" on
	// the last page.
	Next string `json:"next,omitempty"`
	// Actions are the actions people took on the environment, on its
	// application or on its source (abort, retry, promote, approve,
	// rollback, pause, resume, refresh), newest first, with who (the
	// API token's name), when, why and what Jibe did: on the first page
	// only.
	Actions []reconcile.ActionRecord `json:"actions,omitempty"`
	// LiveMissing is as in AppView: why this page lacks what only the
	// application's owner saw (who approved each rollout).
	LiveMissing string `json:"liveMissing,omitempty"`
}

// HistoryEntry is one past (or running) rollout.
type HistoryEntry struct {
	ID       string `json:"id"`
	Revision string `json:"revision"`
	// State is the outcome (succeeded, failed, rolled-back, superseded),
	// or running.
	State string `json:"state"`
	// Reason explains a failure or a rollback.
	Reason string `json:"reason,omitempty"`
	// Strategy and Mode are as in RolloutSummary.
	Strategy   string `json:"strategy"`
	Mode       string `json:"mode"`
	Correction bool   `json:"correction,omitempty"`
	// Action names the action that started the rollout of a revision
	// that had run before: "retry" or "rollback".
	Action  string    `json:"action,omitempty"`
	Started time.Time `json:"started"`
	// Finished is when it ended; zero while it runs.
	Finished time.Time `json:"finished,omitzero"`
	// Duration is Finished - Started, in seconds.
	Duration float64 `json:"durationSeconds,omitempty"`
	// ApprovedBy is the approval step's outcome, e.g. "approved by alice",
	// when the agent saw it (it is not journaled: an agent restarted
	// since does not know it).
	ApprovedBy string `json:"approvedBy,omitempty"`
	// PullRequest is the number of the pull request that brought the
	// revision, when known.
	PullRequest int `json:"pullRequest,omitempty"`
}

// SourceView is one configured source and how its polling goes.
type SourceView struct {
	Name string `json:"name"`
	// Kind is git or dir.
	Kind string `json:"kind"`
	// URL is the repository (without credentials) or the folder; Branch
	// the branch polled.
	URL    string `json:"url"`
	Branch string `json:"branch,omitempty"`
	// State is ok, failing (the last poll failed) or unknown (not polled
	// yet, or a source that reports no status).
	State string `json:"state"`
	// Revision is the last commit seen.
	Revision string `json:"revision,omitempty"`
	// LastPoll is when the last poll ended; LastSuccess when the last
	// successful one did; NextPoll when the next is due.
	LastPoll    time.Time `json:"lastPoll,omitzero"`
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	NextPoll    time.Time `json:"nextPoll,omitzero"`
	// LastError is the last poll's error; Failures counts failed polls in
	// a row; Stalling says the error needs someone (authentication, a
	// missing repository) rather than time.
	LastError string `json:"lastError,omitempty"`
	Failures  int    `json:"failures,omitempty"`
	Stalling  bool   `json:"stalling,omitempty"`
	// Applications counts the source's applications.
	Applications int `json:"applications"`
	// Drift lists the environments of its applications whose live state
	// differs from Git, as last observed.
	Drift []DriftView `json:"drift,omitempty"`
}

// DriftView is one environment that drifted from Git.
type DriftView struct {
	App       string   `json:"app"`
	Env       string   `json:"env"`
	Resources []string `json:"resources"`
}

// EventView is one event of the live stream (GET /api/v1/events), as
// JSON in an SSE "data:" line; the SSE event type is Type.
type EventView struct {
	// Seq numbers the events this agent process sent, from 1; it resets
	// when the agent restarts. When agents share the journal
	// (state.kubernetes), a stream carries the other agents' events too,
	// and Seq numbers the events of the stream.
	Seq uint64 `json:"seq"`
	// Type is "rollout" (a rollout event), "refused" (a revision refused
	// before a rollout), "plan" (a pull request's plan preview),
	// "action" (someone acted through the API: kind "action", the message
	// says who, why and what happens now), "held" (a rollout that may not
	// start: a pause or a freeze window, the message says until when) or
	// "source" (a source's status changed).
	Type string `json:"type"`
	// Kind is the engine's event kind (started, step-done, waiting,
	// succeeded, failed, rolled-back, superseded, spec-invalid...), or
	// for a source event its new state (ok, failing).
	Kind string `json:"kind"`
	// App ("source/name"), Env and Revision say what happened where; for
	// a source event, Source alone is set.
	App      string `json:"app,omitempty"`
	Source   string `json:"source,omitempty"`
	Env      string `json:"env,omitempty"`
	Revision string `json:"revision,omitempty"`
	// Rollout is the rollout's ID, Step the step's kind, when they apply.
	Rollout string    `json:"rollout,omitempty"`
	Step    string    `json:"step,omitempty"`
	Message string    `json:"message,omitempty"`
	At      time.Time `json:"at"`
}

// AppFilter selects applications; empty fields select everything.
type AppFilter struct {
	// Source keeps the applications of that source.
	Source string
	// State keeps the applications with an environment in that state
	// (running, succeeded, failed, rolled-back, superseded, pending), or
	// in error.
	State string
	// Text keeps the applications whose name, folder or any environment's
	// revision contains it, case-insensitively.
	Text string
	// owned keeps the applications this agent owns, as its Peers say: a
	// list another agent asks for (peerviews.go) takes those alone.
	owned bool
}
