package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/reconcile"
)

// historyLength is how many past rollouts an environment's section lists.
const historyLength = 10

// appPage is an application's page: each environment in promotion order.
type appPage struct {
	agent.AppView
	Wanted version
	Envs   []envSection
	// Repo links to the source's repository; zero when unknown.
	Repo RepoLinks
	// Source is the source's polling status, when the agent reports one.
	SourceStatus *agent.SourceView
	// CanWrite is set when the request may act: the page shows the
	// buttons of the actions that apply.
	CanWrite bool
	// Paused is set when an environment is held by a pause.
	Paused bool
}

// envSection is one environment of an application's page.
type envSection struct {
	cell
	View     agent.EnvView
	LastGood string
	// Rollout is the latest rollout, nil before the first.
	Rollout *agent.RolloutView
	// Charts are the rollout's traffic and analyses over time.
	Charts  []chart
	History []agent.HistoryEntry
	// Problem says why part of the section could not be read.
	Problem string
	// Actions are the actions that apply to the environment now, for
	// pages that may act; Path is where they are posted.
	Actions []envAction
	Path    string
}

// envAction is a button of an environment's section: the action, its
// label, what it asks to confirm, and for a rollback the revision.
type envAction struct {
	Action, Label, Confirm, To string
	// Reason is set when the action needs a reason (break-glass).
	Reason bool
}

// RepoLinks are the addresses of a source's repository for people.
type RepoLinks struct {
	// Web is the repository's page, e.g. https://github.com/acme/shop.
	Web string
	// Statuses returns the address of a commit's statuses; nil for none.
	Statuses func(commit string) string
}

// Commit returns the address of a commit's page, "" when unknown.
func (l RepoLinks) Commit(sha string) string {
	if l.Web == "" || sha == "" {
		return ""
	}
	return l.Web + "/commit/" + sha
}

// Pull returns the address of a pull request, "" when unknown.
func (l RepoLinks) Pull(n int) string {
	if l.Web == "" || n == 0 {
		return ""
	}
	return l.Web + "/pull/" + strconv.Itoa(n)
}

// StatusesOf returns the address of a commit's statuses, "" when unknown.
func (l RepoLinks) StatusesOf(sha string) string {
	if l.Statuses == nil || sha == "" {
		return ""
	}
	return l.Statuses(sha)
}

// appPageOf reads everything an application's page shows from views.
func (d *Dashboard) appPageOf(v agent.AppView) appPage {
	id := reconcile.AppID{Source: v.Source, Name: v.Name}
	p := appPage{AppView: v, Wanted: version{Revision: v.Revision, Short: reconcile.ShortRevision(v.Revision), PullRequest: v.PullRequest}}
	if d.opts.Links != nil {
		p.Repo = d.opts.Links(v.Source)
	}
	for _, s := range d.views.Sources() {
		if s.Name == v.Source {
			p.SourceStatus = &s
		}
	}
	for i := range v.Environments {
		p.Envs = append(p.Envs, d.envSection(id, &v.Environments[i]))
	}
	return p
}

// appPageFor is the application's page for the request r: with the
// buttons of the actions that apply when r may act.
func (d *Dashboard) appPageFor(r *http.Request, v agent.AppView) appPage {
	p := d.appPageOf(v)
	p.CanWrite = d.mayWrite(r)
	for i := range p.Envs {
		if p.CanWrite {
			p.Envs[i].Actions = actionsOf(&p.Envs[i])
			p.Envs[i].Path = "/api/v1/applications/" + url.PathEscape(v.Source) + "/" + url.PathEscape(v.Name) + "/environments/" + url.PathEscape(p.Envs[i].View.Name)
		}
		p.Paused = p.Paused || strings.HasPrefix(p.Envs[i].View.Hold, "paused:")
	}
	return p
}

// actionsOf returns the actions that apply to an environment now.
func actionsOf(s *envSection) []envAction {
	var out []envAction
	env := s.View.Name
	if r := s.Rollout; r != nil && r.State == "running" && !r.RollingBack {
		short := reconcile.ShortRevision(r.Revision)
		out = append(out, envAction{Action: "abort", Label: "Abort", Confirm: "Roll the rollout of " + short + " in " + env + " back now?"})
		pauses, gate := 0, false
		for _, st := range r.Steps[min(max(r.Step, 0), len(r.Steps)):] {
			pauses += boolInt(st.Kind == reconcile.StepPause.String())
			gate = gate || st.Kind == reconcile.StepAwaitApproval.String()
		}
		if pauses > 0 {
			out = append(out, envAction{Action: "promote", Label: "Promote", Confirm: "Skip the pauses left in the rollout of " + short + " in " + env + "?"})
		}
		if gate {
			out = append(out, envAction{Action: "approve", Label: "Approve (break-glass)", Reason: true,
				Confirm: "Approve " + short + " in " + env + " without reviews (break-glass)? This is recorded with your reason."})
		}
	}
	if s.View.State == "failed" || s.View.State == "rolled-back" {
		out = append(out, envAction{Action: "retry", Label: "Retry", Confirm: "Roll " + reconcile.ShortRevision(s.View.Rollout.Revision) + " out to " + env + " again?"})
	}
	for _, h := range s.History {
		if h.State == "succeeded" && h.Revision != s.View.Revision {
			short := reconcile.ShortRevision(h.Revision)
			out = append(out, envAction{Action: "rollback", Label: "Roll back to " + short, To: h.Revision,
				Confirm: "Deploy " + short + " to " + env + " now and hold it there until a new commit? Revert the change in Git too."})
			break
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// envSection reads an environment's rollout and history.
func (d *Dashboard) envSection(id reconcile.AppID, e *agent.EnvView) envSection {
	s := envSection{cell: cellOf(e), View: *e, LastGood: e.LastGood}
	if e.Rollout != nil {
		r, err := d.views.Rollout(id, e.Name, "")
		switch {
		case err == nil:
			s.Rollout = r
			s.Charts = chartsOf(r, d.opts.Clock.Now())
		case !errors.Is(err, reconcile.ErrNoRollout):
			s.Problem = "the rollout cannot be read: " + err.Error()
		}
	}
	h, err := d.views.History(id, e.Name, "", historyLength)
	if err != nil {
		s.Problem = "the history cannot be read: " + err.Error()
	}
	s.History = h.Rollouts
	return s
}
