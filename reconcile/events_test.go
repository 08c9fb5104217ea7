package reconcile_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

// recorder is a subscriber that keeps what it receives.
type recorder struct {
	mu     sync.Mutex
	events []reconcile.Event
}

func (r *recorder) Receive(e reconcile.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Every subscriber receives every event before Emit returns, in the
// order of emission per application, while applications emit
// concurrently.
func TestStreamFansOutInOrder(t *testing.T) {
	var s reconcile.Stream
	subs := []*recorder{{}, {}, {}}
	for _, r := range subs {
		s.Subscribe(r)
	}
	const apps, perApp = 4, 50
	var wg sync.WaitGroup
	for a := range apps {
		wg.Go(func() { // one worker per application, as the agent's queue runs them
			for n := range perApp {
				s.Emit(reconcile.Event{Kind: reconcile.EventStepDone, App: reconcile.AppID{Source: "s", Name: fmt.Sprint(a)}, Message: fmt.Sprint(n)})
			}
		})
	}
	wg.Wait()
	for i, r := range subs {
		if len(r.events) != apps*perApp {
			t.Fatalf("subscriber %d received %d events, want %d", i, len(r.events), apps*perApp)
		}
		next := map[string]int{}
		for _, e := range r.events {
			if want := fmt.Sprint(next[e.App.Name]); e.Message != want {
				t.Fatalf("subscriber %d received event %s of app %s, want %s: order lost", i, e.Message, e.App.Name, want)
			}
			next[e.App.Name]++
		}
	}
}

// A Stream without subscribers drops events; subscribers receive an
// event in subscription order, and one added later receives the events
// emitted after it.
func TestStreamSubscribeLater(t *testing.T) {
	var s reconcile.Stream
	var calls []string
	s.Emit(reconcile.Event{Kind: reconcile.EventStarted})
	for _, name := range []string{"statuses", "slack", "metrics"} {
		s.Subscribe(reconcile.SubscriberFunc(func(e reconcile.Event) { calls = append(calls, name+" "+e.Kind.String()) }))
	}
	s.Emit(reconcile.Event{Kind: reconcile.EventSucceeded})
	if got := fmt.Sprint(calls); got != "[statuses succeeded slack succeeded metrics succeeded]" {
		t.Errorf("calls = %s, want every subscriber once, in subscription order, for the event after subscribing", got)
	}
}

// Rollout events carry the application, environment and revision of
// their rollout.
func TestRolloutEventIdentifiesTheRollout(t *testing.T) {
	r := &reconcile.Rollout{ID: "x", Source: "team-a", App: "shop", Env: "staging", Revision: "abc"}
	step := &reconcile.Step{Kind: reconcile.StepApply}
	e := reconcile.RolloutEvent(reconcile.EventWaiting, r, step, "waiting")
	if e.App != (reconcile.AppID{Source: "team-a", Name: "shop"}) || e.Env != "staging" || e.Revision != "abc" || e.Rollout != r || e.Step != step || e.Message != "waiting" {
		t.Errorf("event = %+v", e)
	}
}

// Every kind has its own name; only refusals of a revision say Refused.
func TestEventKinds(t *testing.T) {
	refused := map[reconcile.EventKind]bool{reconcile.EventSpecInvalid: true, reconcile.EventTenancyRefused: true,
		reconcile.EventDuplicateName: true, reconcile.EventObjectRefused: true}
	seen := map[string]reconcile.EventKind{}
	for k := reconcile.EventStarted; k <= reconcile.EventPlanFailed; k++ {
		name := k.String()
		if name == "unknown" {
			t.Errorf("kind %d has no name", k)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("kinds %d and %d are both named %s", k, other, name)
		}
		seen[name] = k
		if k.Refused() != refused[k] {
			t.Errorf("%s.Refused() = %v", k, k.Refused())
		}
	}
	if got := reconcile.EventKind(0).String(); got != "unknown" {
		t.Errorf("the zero kind is named %s", got)
	}
}
