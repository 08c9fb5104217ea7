package dashboard

import (
	"errors"
	"strconv"

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
