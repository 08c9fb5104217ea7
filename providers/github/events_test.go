package github

import (
	"sync/atomic"
	"testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/reconcile"
)

var shop = reconcile.AppID{Source: "team-a", Name: "shop"}

func rollout(state reconcile.RolloutState, changes int) *reconcile.Rollout {
	r := &reconcile.Rollout{ID: "r1", Source: shop.Source, App: shop.Name, Env: "production", Revision: sha, State: state}
	for range changes {
		r.Plan.Changes = append(r.Plan.Changes, reconcile.Change{Resource: "Deployment web", Action: reconcile.ActionUpdate})
	}
	return r
}

func rolloutEvent(kind reconcile.EventKind, r *reconcile.Rollout, message string) reconcile.Event {
	return reconcile.RolloutEvent(kind, r, nil, message)
}

func refusal(kind reconcile.EventKind, message string) reconcile.Event {
	return reconcile.Event{Kind: kind, App: shop, Env: "spec", Revision: sha, Message: message}
}

// Every event maps to one commit status: the table is the vocabulary the
// author sees on the commit.
func TestStatusOf(t *testing.T) {
	corrected := rollout(reconcile.RolloutSucceeded, 1)
	corrected.Correction = true
	for _, tc := range []struct {
		name  string
		event reconcile.Event
		state State
		desc  string
	}{
		{"started", rolloutEvent(reconcile.EventStarted, rollout(reconcile.RolloutRunning, 1), "rolling out 1 change(s) with canary"),
			StatePending, "rolling out 1 change(s) with canary"},
		{"step done", rolloutEvent(reconcile.EventStepDone, rollout(reconcile.RolloutRunning, 1), "apply web"), StatePending, "apply web"},
		{"waiting", rolloutEvent(reconcile.EventWaiting, rollout(reconcile.RolloutRunning, 1), "waiting for 1 approving review"),
			StatePending, "waiting for 1 approving review"},
		{"waiting after failing", rolloutEvent(reconcile.EventWaiting, rollout(reconcile.RolloutFailed, 1), "failed, rolling back: timeout"),
			StateFailure, "failed, rolling back: timeout"},
		{"rolled out", rolloutEvent(reconcile.EventSucceeded, rollout(reconcile.RolloutSucceeded, 1), ""), StateSuccess, "rolled out and verified"},
		{"in sync", rolloutEvent(reconcile.EventSucceeded, rollout(reconcile.RolloutSucceeded, 0), ""), StateSuccess, "in sync with Git"},
		{"drift corrected", rolloutEvent(reconcile.EventSucceeded, corrected, ""), StateSuccess, "drift corrected: live state matches Git again"},
		{"failed, rolling back", rolloutEvent(reconcile.EventFailed, rollout(reconcile.RolloutRunning, 1), "check 5xx failed"),
			StatePending, "failed, rolling back: check 5xx failed"},
		{"failed, final", rolloutEvent(reconcile.EventFailed, rollout(reconcile.RolloutFailed, 1), "nothing was changed: bad image"),
			StateFailure, "failed, nothing was changed: bad image"},
		{"rolled back", rolloutEvent(reconcile.EventRolledBack, rollout(reconcile.RolloutRolledBack, 1), "check 5xx failed"),
			StateFailure, "rolled back: check 5xx failed"},
		{"superseded", rolloutEvent(reconcile.EventSuperseded, rollout(reconcile.RolloutSuperseded, 1), "superseded by abc1234"),
			StateError, "superseded by abc1234"},
		{"invalid spec", refusal(reconcile.EventSpecInvalid, "invalid spec: jibe.yaml:3: spec.environments: required"),
			StateFailure, "invalid spec: jibe.yaml:3: spec.environments: required"},
		{"tenancy refused", refusal(reconcile.EventTenancyRefused, "refused: environment staging, target web: account prod is not allowed"),
			StateFailure, "refused: environment staging, target web: account prod is not allowed"},
		{"duplicate name", refusal(reconcile.EventDuplicateName, `duplicate name "shop": a/jibe.yaml:2 and b/jibe.yaml:2 in source team-a; names are unique per source, rename one`),
			StateFailure, `duplicate name "shop": a/jibe.yaml:2 and b/jibe.yaml:2 in source team-a; names are unique per source, rename one`},
		{"object refused", refusal(reconcile.EventObjectRefused, "refused: k8s/rbac.yaml:3: ClusterRole reader: cluster-scoped"),
			StateFailure, "refused: k8s/rbac.yaml:3: ClusterRole reader: cluster-scoped"},
		{"planned", refusal(reconcile.EventPlanned, "staging: 2 change(s), rolling"), StateSuccess, "staging: 2 change(s), rolling"},
		{"plan failed", refusal(reconcile.EventPlanFailed, "precheck failed: staging: role missing"), StateFailure, "precheck failed: staging: role missing"},
		{"departed, left running", refusal(reconcile.EventDeparted, "removed from Git at abc1234, left running: pruning is off for source shop"),
			StateError, "removed from Git at abc1234, left running: pruning is off for source shop"},
		{"deleting", refusal(reconcile.EventDeleting, "removed from Git at abc1234, deleting"), StatePending, "removed from Git at abc1234, deleting"},
		{"deleted", refusal(reconcile.EventDeleted, "removed from Git at abc1234, deleted"), StateSuccess, "removed from Git at abc1234, deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, desc := StatusOf(tc.event)
			if state != tc.state || desc != tc.desc {
				t.Errorf("StatusOf(%s) = %s %q, want %s %q", tc.event.Kind, state, desc, tc.state, tc.desc)
			}
		})
	}
}

// EventStatuses posts each event on its revision, under the context of
// its application and environment (a duplicate's folder instead of its
// name), linking where the resolver says; an application whose statuses
// go nowhere posts nothing.
func TestEventStatusesPosts(t *testing.T) {
	f := newFixture(t)
	targets := func(app reconcile.AppID) (StatusTarget, bool) {
		return StatusTarget{Owner: "acme", Repo: "shop", Context: "jibe/{source}/{app}/{env}", URL: "https://jibe.example.com/apps/" + app.String()},
			app.Source == shop.Source
	}
	s := NewEventStatuses(f.r, targets)
	s.Receive(rolloutEvent(reconcile.EventSucceeded, rollout(reconcile.RolloutSucceeded, 1), ""))
	s.Receive(reconcile.Event{Kind: reconcile.EventDuplicateName, App: shop, Env: "staging", Revision: sha, Folder: "apps/shop2", Message: "duplicate name"})
	s.Receive(reconcile.Event{Kind: reconcile.EventPlanned, App: shop, Env: "plan", Revision: sha, Message: "staging: in sync"})
	s.Receive(reconcile.Event{Kind: reconcile.EventPlanned, App: reconcile.AppID{Source: "elsewhere", Name: "shop"}, Env: "plan", Revision: sha, Message: "x"})
	f.run(t)
	want := map[string]githubemu.Status{
		"jibe/team-a/shop/production":    {State: "success", Description: "rolled out and verified"},
		"jibe/team-a/apps/shop2/staging": {State: "failure", Description: "duplicate name"},
		"jibe/team-a/shop/plan":          {State: "success", Description: "staging: in sync"},
	}
	got := f.emu.Statuses("acme/shop", sha)
	if len(got) != len(want) {
		t.Fatalf("statuses = %+v, want %d", got, len(want))
	}
	for _, s := range got {
		w, ok := want[s.Context]
		if !ok || s.State != w.State || s.Description != w.Description || s.TargetURL != "https://jibe.example.com/apps/team-a/shop" {
			t.Errorf("status %s = %+v, want %+v linking to the application", s.Context, s, w)
		}
	}
}

// ConfigTargets reads the configuration in force at every event: a
// reloaded status context or external URL applies to the next status.
func TestConfigTargetsFollowsReloads(t *testing.T) {
	src := config.Source{Name: "team-a", Git: &config.GitSource{URL: "https://github.com/acme/shop.git"}}
	first := &config.Config{Sources: []config.Source{src}, GitHub: &config.GitHub{StatusContext: "jibe/{app}/{env}"}}
	second := &config.Config{Sources: []config.Source{src}, GitHub: &config.GitHub{StatusContext: "deploy/{source}/{app}/{env}"},
		Server: config.Server{ExternalURL: "https://jibe.example.com"}}
	var cfg atomic.Pointer[config.Config]
	cfg.Store(first)
	link := func(ext string, app reconcile.AppID) string {
		if ext == "" {
			return ""
		}
		return ext + "/apps/" + app.String()
	}
	targets := ConfigTargets(cfg.Load, link)
	if got, ok := targets(shop); !ok || got != (StatusTarget{Owner: "acme", Repo: "shop", Context: "jibe/{app}/{env}"}) {
		t.Errorf("before reload: %+v, %v", got, ok)
	}
	cfg.Store(second)
	if got, ok := targets(shop); !ok || got != (StatusTarget{Owner: "acme", Repo: "shop", Context: "deploy/{source}/{app}/{env}", URL: "https://jibe.example.com/apps/team-a/shop"}) {
		t.Errorf("after reload: %+v, %v", got, ok)
	}
	if _, ok := targets(reconcile.AppID{Source: "gone", Name: "shop"}); ok {
		t.Error("an application of an unknown source has a status target")
	}
	cfg.Store(&config.Config{Sources: []config.Source{src}})
	if _, ok := targets(shop); ok {
		t.Error("without a github configuration, statuses have a target")
	}
}

func TestRepository(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/shop.git": "acme/shop",
		"git@github.com:acme/shop.git":     "acme/shop",
		"https://gitlab.com/acme/shop.git": "",
		"ssh://git@github.com/acme/shop":   "acme/shop",
	} {
		if got := githubPath(in); got != want {
			t.Errorf("githubPath(%q) = %q, want %q", in, got, want)
		}
	}
	owner, repo := Repository(&config.Source{Git: &config.GitSource{URL: "https://gitlab.com/acme/shop.git", Repository: "acme/mirror"}})
	if owner != "acme" || repo != "mirror" {
		t.Errorf("the repository setting gives %s/%s, want acme/mirror", owner, repo)
	}
	if _, repo := Repository(&config.Source{Dir: &config.DirSource{}}); repo != "" {
		t.Errorf("a dir source has repository %q", repo)
	}
}
