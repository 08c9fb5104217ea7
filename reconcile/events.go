package reconcile

import "sync"

// EventKind is what happened: to a rollout, to a revision the agent
// refused before any rollout, or to the plan preview of a pull request.
type EventKind int

// The event kinds. Rollout events (EventStarted to EventSuperseded) carry
// their Rollout; the others carry none.
const (
	EventStarted EventKind = iota + 1
	EventStepDone
	EventWaiting
	EventSucceeded
	EventFailed
	EventRolledBack
	EventSuperseded
	// EventSpecInvalid: the revision's spec does not load; the message
	// names the first problem's file, line and field.
	EventSpecInvalid
	// EventTenancyRefused: an environment deploys where its source may
	// not (account, cluster, namespace, check host), or where the agent
	// configuration cannot place it (an account or cluster it does not
	// configure, an approval rule with no GitHub to read reviews from).
	EventTenancyRefused
	// EventDuplicateName: another folder of the source gives the same
	// application name; Event.Folder names this one.
	EventDuplicateName
	// EventObjectRefused: a platform refused to write an object of the
	// environment (see RefusedError).
	EventObjectRefused
	// EventPlanned: the plan preview of a pull request is ready; the
	// message summarises it.
	EventPlanned
	// EventPlanFailed: the plan preview of a pull request found what
	// must be fixed before merging; the message names the first problem.
	EventPlanFailed
	// EventDeparted: the application left Git (its folder or jibe.yaml is
	// gone from a successful poll of its source) while it runs in the
	// environment, and is left running there: its source does not prune,
	// or the branch was rewritten. Revision is the commit that removed it;
	// the message says why it is left running.
	EventDeparted
	// EventDeleting: the environment's targets of an application that
	// left Git are being deleted (its source prunes).
	EventDeleting
	// EventDeleted: the environment's targets of an application that
	// left Git were deleted; Revision is the commit that removed it.
	EventDeleted
	// EventAction: someone acted through the API (abort, retry, promote,
	// approve, rollback, pause, resume, refresh); the message says who,
	// why and what Jibe does now. Rollout is the rollout acted on, if
	// any; Env and Revision are empty for an action on a whole
	// application or source (App.Name too for a source).
	EventAction
)

// String names the event kind, e.g. "rolled-back", for logs and metrics.
func (k EventKind) String() string {
	switch k {
	case EventStarted:
		return "started"
	case EventStepDone:
		return "step-done"
	case EventWaiting:
		return "waiting"
	case EventSucceeded:
		return "succeeded"
	case EventFailed:
		return "failed"
	case EventRolledBack:
		return "rolled-back"
	case EventSuperseded:
		return "superseded"
	case EventSpecInvalid:
		return "spec-invalid"
	case EventTenancyRefused:
		return "tenancy-refused"
	case EventDuplicateName:
		return "duplicate-name"
	case EventObjectRefused:
		return "object-refused"
	case EventPlanned:
		return "planned"
	case EventPlanFailed:
		return "plan-failed"
	case EventDeparted:
		return "departed"
	case EventDeleting:
		return "deleting"
	case EventDeleted:
		return "deleted"
	case EventAction:
		return "action"
	}
	return "unknown"
}

// Refused reports whether the kind says that a revision was refused
// before, or instead of, a rollout.
func (k EventKind) Refused() bool {
	switch k {
	case EventSpecInvalid, EventTenancyRefused, EventDuplicateName, EventObjectRefused:
		return true
	}
	return false
}

// Event is something that happened to an application's revision in one
// environment. It is the one thing reporters (commit statuses,
// notifications, metrics, the API, logs) are told; they treat it, and its
// Rollout, as read-only.
type Event struct {
	Kind EventKind
	// App is the application.
	App AppID
	// Env is the environment; "spec" for a refused spec that names no
	// environment; "plan" for a plan preview.
	Env string
	// Revision is the commit concerned.
	Revision string
	// Rollout is the rollout, for rollout events; nil otherwise.
	Rollout *Rollout
	// Step is the step concerned, if any.
	Step *Step
	// Message is one line for people, e.g. the reason of a failure.
	Message string
	// Folder is the application's folder in its source, set when its name
	// does not tell it apart (EventDuplicateName): reports name the
	// application by its folder then.
	Folder string
}

// RolloutEvent returns the event of kind that happened to rollout r, at
// step s (nil for none), identified by r's application, environment and
// revision.
func RolloutEvent(kind EventKind, r *Rollout, s *Step, message string) Event {
	return Event{Kind: kind, App: r.AppID(), Env: r.Env, Revision: r.Revision, Rollout: r, Step: s, Message: message}
}

// Subscriber receives the events of a Stream.
type Subscriber interface {
	// Receive is given every event, in the order it was emitted, on the
	// goroutine that emits it. It must not block (queue slow work, as
	// github.Reporter.Post and slack.Notifier.Notify do) and must not
	// modify the event.
	Receive(Event)
}

// SubscriberFunc makes a function a Subscriber.
type SubscriberFunc func(Event)

// Receive calls f(e).
func (f SubscriberFunc) Receive(e Event) { f(e) }

// Stream fans events out to its subscribers, synchronously and in
// subscription order: an event reaches every subscriber before Emit
// returns, so events of one application, emitted by one goroutine at a
// time, reach each subscriber in order. Subscribers are added at wiring
// time, before the first event. The zero value has no subscribers; a
// Stream is safe for concurrent use.
type Stream struct {
	mu   sync.RWMutex
	subs []Subscriber
}

// Subscribe adds s to the subscribers.
func (st *Stream) Subscribe(s Subscriber) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.subs = append(st.subs, s)
}

// Emit gives e to every subscriber. It is the Executor's Emit.
func (st *Stream) Emit(e Event) {
	st.mu.RLock()
	subs := st.subs
	st.mu.RUnlock()
	for _, s := range subs {
		s.Receive(e)
	}
}
