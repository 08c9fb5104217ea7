package github

import (
	"cmp"
	"net/url"
	"strings"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
)

// StatusTarget is where the commit statuses of an application go.
type StatusTarget struct {
	// Owner and Repo name the repository.
	Owner, Repo string
	// Context is the status context format, e.g. "jibe/{app}/{env}" (see
	// StatusContext).
	Context string
	// URL is what each status links to, e.g. the application's page in
	// the agent; empty for no link.
	URL string
}

// StatusResolver returns where the statuses of an application go, as
// the configuration in force says; ok is false when they go nowhere (no
// GitHub configuration, a source outside GitHub).
type StatusResolver func(app reconcile.AppID) (t StatusTarget, ok bool)

// ConfigTargets resolves status targets from the configuration cfg
// returns, read at every event so that a reloaded configuration applies
// at once: the application's source gives the repository (see
// Repository), github.statusContext the context, and link the address of
// the application's page under server.externalURL.
func ConfigTargets(cfg func() *config.Config, link func(externalURL string, app reconcile.AppID) string) StatusResolver {
	return func(app reconcile.AppID) (StatusTarget, bool) {
		c := cfg()
		if c == nil || c.GitHub == nil {
			return StatusTarget{}, false
		}
		owner, repo := Repository(c.Source(app.Source))
		t := StatusTarget{Owner: owner, Repo: repo, Context: c.GitHub.StatusContext, URL: link(c.Server.ExternalURL, app)}
		return t, repo != ""
	}
}

// Repository returns the GitHub owner and name of a source's repository:
// its repository setting, or its URL's path on github.com; empty for a
// source outside GitHub.
func Repository(src *config.Source) (owner, repo string) {
	if src == nil || src.Git == nil {
		return "", ""
	}
	full := src.Git.Repository
	if full == "" {
		full = githubPath(src.Git.URL)
	}
	owner, repo, _ = strings.Cut(full, "/")
	return owner, repo
}

// githubPath returns "owner/name" of a github.com URL, or "".
func githubPath(raw string) string {
	raw = strings.TrimSuffix(raw, ".git")
	if rest, ok := strings.CutPrefix(raw, "git@github.com:"); ok {
		return rest
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() != "github.com" {
		return ""
	}
	return strings.Trim(u.Path, "/")
}

// poster queues commit statuses without blocking: Reporter.
type poster interface {
	Post(Status)
}

var _ poster = (*Reporter)(nil)

// EventStatuses turns engine events into commit statuses: every event
// becomes the status of its environment (or "spec", or "plan") on its
// revision, under the context named after the application. It is a
// reconcile.Subscriber and never blocks: statuses are queued on a
// Reporter.
type EventStatuses struct {
	statuses poster
	targets  StatusResolver
}

var _ reconcile.Subscriber = (*EventStatuses)(nil)

// NewEventStatuses returns the subscriber posting statuses through r to
// where targets says.
func NewEventStatuses(r *Reporter, targets StatusResolver) *EventStatuses {
	return &EventStatuses{statuses: r, targets: targets}
}

// Receive queues the status of e, when its application's statuses go
// somewhere.
func (s *EventStatuses) Receive(e reconcile.Event) {
	if e.Kind == reconcile.EventAction && (e.Revision == "" || e.Env == "") {
		return // an action on a whole application or source: no commit's status
	}
	t, ok := s.targets(e.App)
	if !ok {
		return
	}
	state, desc := StatusOf(e)
	s.statuses.Post(Status{
		Owner: t.Owner, Repo: t.Repo, SHA: e.Revision, State: state, Description: desc,
		Context:   StatusContext(t.Context, e.App.Source, cmp.Or(e.Folder, e.App.Name), e.Env),
		TargetURL: t.URL,
	})
}

// StatusOf maps an event to its commit status state and description.
func StatusOf(e reconcile.Event) (State, string) {
	switch e.Kind {
	case reconcile.EventSucceeded:
		return StateSuccess, succeeded(e.Rollout)
	case reconcile.EventFailed:
		if e.Rollout.State.Final() { // the message says what was done
			return StateFailure, "failed, " + e.Message
		}
		return StatePending, "failed, rolling back: " + e.Message
	case reconcile.EventRolledBack:
		return StateFailure, "rolled back: " + e.Message
	case reconcile.EventSuperseded:
		return StateError, e.Message
	case reconcile.EventPlanned:
		return StateSuccess, e.Message
	case reconcile.EventPlanFailed:
		return StateFailure, e.Message
	case reconcile.EventDeparted: // left running, unmanaged: someone should look
		return StateError, e.Message
	case reconcile.EventDeleting:
		return StatePending, e.Message
	case reconcile.EventDeleted:
		return StateSuccess, e.Message
	}
	if e.Kind.Refused() || (e.Rollout != nil && e.Rollout.State == reconcile.RolloutFailed) {
		return StateFailure, e.Message
	}
	return StatePending, e.Message
}

// succeeded describes a rollout that succeeded.
func succeeded(r *reconcile.Rollout) string {
	switch {
	case r.BreakGlass != nil:
		return "rolled out and verified; approved by break-glass: " + r.BreakGlass.By + ": " + r.BreakGlass.Reason
	case r.Action == reconcile.ActionRollback:
		return "rolled back to this revision by an action: revert in Git"
	case r.Correction:
		return "drift corrected: live state matches Git again"
	case r.Plan.InSync():
		return "in sync with Git"
	}
	return "rolled out and verified"
}
