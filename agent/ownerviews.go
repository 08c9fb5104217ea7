package agent

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/jibe-dev/jibe/reconcile"
)

// Views are the views the API serves, as the dashboard reads them (the
// methods of *Agent of the same names).
type Views interface {
	Applications() []AppView
	Application(id reconcile.AppID) (AppView, bool)
	Rollout(app reconcile.AppID, env, which string) (*RolloutView, error)
	History(app reconcile.AppID, env, before string, limit int) (HistoryView, error)
	Sources() []SourceView
}

var _ Views = (*Agent)(nil)

// ViewsFor returns the views as the API answers r: this agent's when it
// is alone (the agent itself: nothing is paid), else each application's
// from its owner, asked with r's credentials, as fromOwner and
// listFromOwners do. The dashboard reads its pages through it, so that
// any replica's pages show what the owners know live.
func (a *Agent) ViewsFor(r *http.Request) Views {
	if a.opts.Peers == nil || r.Header.Get(ForwardedHeader) != "" {
		return a
	}
	return ownerViews{a: a, r: r}
}

// ownerViews are the views of request r when agents share the journal.
type ownerViews struct {
	a *Agent
	r *http.Request
}

// ask decodes into out the owner's answer to GET path, for the
// application id. It returns remote false when this agent answers
// itself, and why the owner's live fields are missing when it did not
// answer.
func (v ownerViews) ask(id reconcile.AppID, path string, out any) (remote bool, missing string) {
	o, remote := v.a.ownerOf(v.r, id.String())
	if !remote || o.missing != "" {
		return remote, o.missing
	}
	body, err := v.a.askPeer(v.r, o.base, path)
	if err == nil {
		err = json.Unmarshal(body, out)
	}
	if err != nil {
		return true, unreachable(o.identity, err.Error())
	}
	return true, ""
}

// appPath is the API's path of application id.
func appPath(id reconcile.AppID) string {
	return "/api/v1/applications/" + url.PathEscape(id.Source) + "/" + url.PathEscape(id.Name)
}

// Applications returns every application's view, each from its owner.
func (v ownerViews) Applications() []AppView {
	views := v.a.views(AppFilter{})
	r := v.r.Clone(v.r.Context())
	r.URL = &url.URL{Path: "/api/v1/applications"}
	parts := v.a.listFromOwners(r, views)
	out := make([]AppView, len(views))
	for i, c := range views {
		if parts[i] == nil || json.Unmarshal(parts[i], &out[i]) != nil {
			out[i] = c.view
		}
	}
	return out
}

// Application returns the view of id from its owner.
func (v ownerViews) Application(id reconcile.AppID) (AppView, bool) {
	var av AppView
	remote, missing := v.ask(id, appPath(id), &av)
	if remote && missing == "" {
		return av, true
	}
	av, ok := v.a.Application(id)
	if ok && missing != "" {
		av = withoutLive(av, missing)
	}
	return av, ok
}

// Rollout returns the view of a rollout from its application's owner.
func (v ownerViews) Rollout(app reconcile.AppID, env, which string) (*RolloutView, error) {
	path := appPath(app) + "/environments/" + url.PathEscape(env) + "/rollout"
	if which != "" {
		path += "s/" + url.PathEscape(which)
	}
	var rv RolloutView
	remote, missing := v.ask(app, path, &rv)
	if remote && missing == "" {
		return &rv, nil
	}
	out, err := v.a.Rollout(app, env, which)
	if err == nil && missing != "" {
		rolloutWithoutLive(out, missing)
	}
	return out, err
}

// History returns a page of an environment's rollouts from its
// application's owner.
func (v ownerViews) History(app reconcile.AppID, env, before string, limit int) (HistoryView, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if before != "" {
		q.Set("before", before)
	}
	var hv HistoryView
	remote, missing := v.ask(app, appPath(app)+"/environments/"+url.PathEscape(env)+"/history?"+q.Encode(), &hv)
	if remote && missing == "" {
		return hv, nil
	}
	hv, err := v.a.History(app, env, before, limit)
	hv.LiveMissing = missing
	return hv, err
}

// Sources returns every source's status, with each application's drift
// from its owner.
func (v ownerViews) Sources() []SourceView { return v.a.sourcesFromOwners(v.r) }
