package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

// One pane of glass under state.kubernetes. Every replica loads every
// revision and reads the whole journal, but only an application's owner
// evaluates it, so only the owner knows what its current step waits for,
// its drift and its targets' health. A read of an application another
// replica owns is therefore asked of that owner, with the caller's own
// headers (its token: the owner checks it as this replica did), marked
// with ForwardedHeader so that it is never forwarded again; the list
// asks each owner of a listed application once and takes each
// application's view from its owner. An owner that does not answer
// within peerReadTimeout (or none at all) leaves the journal's view,
// marked as lacking the live fields (AppView.LiveMissing).

// The bounds of reads asked of other replicas.
const (
	// peerReadTimeout bounds a read asked of another replica.
	peerReadTimeout = 2 * time.Second
	// peerRetryAfter is how long a replica that failed to answer is not
	// asked again: reads meanwhile take the journal's view at once.
	peerRetryAfter = 5 * time.Second
	// maxPeerAnswer bounds the body of another replica's answer.
	maxPeerAnswer = 64 << 20
)

// peerHealth remembers the replicas that failed to answer lately, by
// base URL, and why.
type peerHealth struct {
	mu   sync.Mutex
	down map[string]peerFailure
}

type peerFailure struct {
	until time.Time
	why   string
}

// failed returns why base failed lately, "" when it may be asked.
func (p *peerHealth) failed(base string, now time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.down[base]
	if !ok || !now.Before(f.until) {
		return ""
	}
	return f.why
}

// note records how asking base went.
func (p *peerHealth) note(base string, now time.Time, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		delete(p.down, base)
		return
	}
	if p.down == nil {
		p.down = map[string]peerFailure{}
	}
	p.down[base] = peerFailure{until: now.Add(peerRetryAfter), why: err.Error()}
}

// owned says whom to ask for what only the owner of key knows live: the
// zero value when this agent answers itself (alone, the owner, or asked
// by another replica already).
type owned struct {
	identity, base string
	// missing says why the owner cannot be asked; "" when it can.
	missing string
}

// ownerOf returns whom to ask for the live state of key on behalf of r.
func (a *Agent) ownerOf(r *http.Request, key string) (owned, bool) {
	if a.opts.Peers == nil || r.Header.Get(ForwardedHeader) != "" {
		return owned{}, false
	}
	identity, base, self := a.opts.Peers.Owner(key)
	switch {
	case self:
		return owned{}, false
	case identity == "":
		return owned{missing: "no agent owns it at the moment (agents are joining or leaving)"}, true
	case base == "":
		return owned{identity: identity, missing: "owned by " + identity + ", whose address is not known here"}, true
	}
	o := owned{identity: identity, base: base}
	if why := a.peers.failed(base, a.opts.Clock.Now()); why != "" {
		o.missing = unreachable(identity, why)
	}
	return o, true
}

// owns reports whether this agent owns application id, as its Peers say
// (every one without Peers).
func (a *Agent) owns(id reconcile.AppID) bool {
	if a.opts.Peers == nil {
		return true
	}
	_, _, self := a.opts.Peers.Owner(id.String())
	return self
}

// unreachable says that the owner could not be asked, and why.
func unreachable(identity, why string) string {
	return "owned by " + identity + ", not reachable (" + why + ")"
}

// askPeer sends r's GET to the replica at base, for path and query
// (r's own when empty), with r's credentials, and returns the body of
// its 200 answer within peerReadTimeout.
func (a *Agent) askPeer(r *http.Request, base, pathQuery string) ([]byte, error) {
	if pathQuery == "" {
		pathQuery = r.URL.RequestURI()
	}
	ctx, cancel := context.WithTimeout(r.Context(), peerReadTimeout)
	defer cancel()
	body, err := getPeer(ctx, r, strings.TrimSuffix(base, "/")+pathQuery, a.self())
	var refused *refusedError
	// Neither the caller leaving nor a refusal of the request (a 4xx:
	// no such rollout, a token refused) says the peer is down.
	if r.Context().Err() == nil && !errors.As(err, &refused) {
		a.peers.note(base, a.opts.Clock.Now(), err)
	}
	return body, err
}

// refusedError is another replica's 4xx answer to a read: it refused
// the request itself (no such rollout, a token refused), and is up.
type refusedError struct {
	status int
	body   []byte
}

func (e *refusedError) Error() string {
	return "answered " + strconv.Itoa(e.status) + " " + http.StatusText(e.status) + ": " + strings.TrimSpace(string(e.body))
}

// getPeer does one GET of u with r's credentials and returns the body
// of a 200 answer.
func getPeer(ctx context.Context, r *http.Request, u, self string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	peerHeaders(req, r, self)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPeerAnswer))
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode/100 == 4:
		return nil, &refusedError{status: resp.StatusCode, body: body[:min(len(body), 1024)]}
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("answered %s", resp.Status)
	}
	return body, nil
}

// peerHeaders gives req the credentials r came with (a bearer token or
// the dashboard's cookie: the peer checks them as this agent did) and
// marks it as forwarded by self.
func peerHeaders(req, r *http.Request, self string) {
	for _, h := range []string{"Authorization", "Cookie"} {
		if v := r.Header.Values(h); len(v) > 0 {
			req.Header[h] = slices.Clone(v)
		}
	}
	req.Header.Set(ForwardedHeader, self)
}

// fromOwner serves a read of one application (h, which takes the reason
// its live fields are missing, "" for none) here when this agent answers
// it, and otherwise passes the owner's answer on (a refusal, such as no
// such rollout, included): when the owner does not give one, h serves
// the journal's view, saying why live fields miss.
func (a *Agent) fromOwner(h func(w http.ResponseWriter, r *http.Request, missing string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o, remote := a.ownerOf(r, appIDOf(r).String())
		if !remote {
			h(w, r, "")
			return
		}
		if o.missing == "" {
			body, err := a.askPeer(r, o.base, "")
			var refused *refusedError
			switch {
			case err == nil:
				w.Header().Set("Content-Type", "application/json")
				w.Write(body)
				return
			case errors.As(err, &refused): // the owner's answer, e.g. no such rollout
				http.Error(w, strings.TrimSpace(string(refused.body)), refused.status)
				return
			}
			o.missing = unreachable(o.identity, err.Error())
			a.log.Warn("the agent that owns an application did not answer a read; serving the journal's view without its live fields",
				"owner", o.identity, "url", o.base, "path", r.URL.Path, "err", err)
		}
		h(w, r, o.missing)
	}
}

// withoutLive makes v the journal's view, marked as lacking its
// owner's live fields, for why: what this agent may have kept of them
// (from a time it owned the application) is dropped, and its running
// environments say why where they would say what they wait for. v's
// slices are shared with the cached view: they are copied.
func withoutLive(v AppView, why string) AppView {
	v.LiveMissing = why
	v.Environments = slices.Clone(v.Environments)
	for i := range v.Environments {
		e := &v.Environments[i]
		e.Waiting, e.Drift = "", nil
		if e.Rollout != nil && e.Rollout.Step >= 0 {
			e.Waiting = why
		}
		targets := make([]TargetView, len(e.Targets))
		for j, t := range e.Targets {
			targets[j] = TargetView{Name: t.Name, Platform: t.Platform}
		}
		if len(targets) > 0 {
			e.Targets = targets
		}
	}
	return v
}

// rolloutWithoutLive marks v, a rollout view, as lacking its owner's
// live fields, for why, which its Waiting message says instead.
func rolloutWithoutLive(v *RolloutView, why string) {
	v.LiveMissing = why
	if v.Step < 0 || v.Step >= len(v.Steps) {
		v.Waiting = nil
		return
	}
	if v.Waiting == nil {
		v.Waiting = &WaitView{Step: v.Step}
	}
	v.Waiting.Message = why
}

// peerList is what one owner answered of the list: each application's
// JSON by ID, or why it did not answer.
type peerList struct {
	views   map[string]json.RawMessage
	missing string
}

// listFromOwners asks each other owner of views for its views of the
// same list, at once, and returns each application's JSON: its owner's,
// the journal's marked as lacking live fields when the owner did not
// answer, this agent's own otherwise.
func (a *Agent) listFromOwners(r *http.Request, views []*cachedView) [][]byte {
	owners := make([]owned, len(views))
	asks := map[string]*peerList{} // by base URL
	for i, c := range views {
		o, remote := a.ownerOf(r, c.view.ID)
		if !remote {
			continue
		}
		owners[i] = o
		if o.missing == "" && asks[o.base] == nil {
			asks[o.base] = &peerList{}
		}
	}
	var wg sync.WaitGroup
	for base, l := range asks {
		wg.Go(func() { a.askList(r, base, l) })
	}
	wg.Wait()
	parts := make([][]byte, len(views))
	for i, c := range views {
		o := owners[i]
		if l := asks[o.base]; o.identity != "" && l != nil && o.missing == "" {
			if raw, ok := l.views[c.view.ID]; ok {
				parts[i] = raw
				continue
			}
			if l.missing != "" {
				o.missing = unreachable(o.identity, l.missing)
			}
		}
		if o.missing != "" {
			parts[i], _ = json.Marshal(withoutLive(c.view, o.missing))
			continue
		}
		parts[i] = c.encoded(&a.encodeMu)
	}
	return parts
}

// askList asks the replica at base for the list r asks for, into l.
func (a *Agent) askList(r *http.Request, base string, l *peerList) {
	body, err := a.askPeer(r, base, "")
	var raws []json.RawMessage
	if err == nil {
		err = json.Unmarshal(body, &raws)
	}
	if err != nil {
		l.missing = err.Error()
		a.log.Warn("another agent did not answer the list of applications; serving the journal's view of those it owns without their live fields",
			"url", base, "err", err)
		return
	}
	l.views = make(map[string]json.RawMessage, len(raws))
	for _, raw := range raws {
		var id struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &id) == nil && id.ID != "" {
			l.views[id.ID] = raw
		}
	}
}

// sourcesFromOwners returns every source's status as Sources does, with
// each application's drift as its owner last observed it: this agent's
// for those it owns, each other live agent's, asked at once with r's
// credentials, for those that agent owns. The drift of an application
// whose owner does not answer is left out (its view says why).
func (a *Agent) sourcesFromOwners(r *http.Request) []SourceView {
	views := a.Sources()
	if a.opts.Peers == nil || r.Header.Get(ForwardedHeader) != "" {
		return views
	}
	others := a.opts.Peers.Others()
	answers := make([][]SourceView, len(others))
	var wg sync.WaitGroup
	for i, base := range others {
		if a.peers.failed(base, a.opts.Clock.Now()) != "" {
			continue
		}
		wg.Go(func() {
			body, err := a.askPeer(r, base, "/api/v1/sources")
			if err == nil && json.Unmarshal(body, &answers[i]) != nil {
				answers[i] = nil
			}
		})
	}
	wg.Wait()
	for i := range views {
		v := &views[i]
		// ownedBy reports whether the agent at base ("" for this one)
		// owns d's application.
		ownedBy := func(base string) func(DriftView) bool {
			return func(d DriftView) bool {
				_, owner, self := a.opts.Peers.Owner(reconcile.AppID{Source: v.Name, Name: d.App}.String())
				return self == (base == "") && (self || owner == base)
			}
		}
		drift := slices.DeleteFunc(v.Drift, notFunc(ownedBy("")))
		for j, answer := range answers {
			for _, p := range answer {
				if p.Name == v.Name {
					drift = append(drift, slices.DeleteFunc(p.Drift, notFunc(ownedBy(others[j])))...)
				}
			}
		}
		slices.SortFunc(drift, func(x, y DriftView) int { return cmp.Or(cmp.Compare(x.App, y.App), cmp.Compare(x.Env, y.Env)) })
		v.Drift = drift
	}
	return views
}

// notFunc negates f.
func notFunc[T any](f func(T) bool) func(T) bool { return func(x T) bool { return !f(x) } }
