package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

// Refresher polls a Git repository's branch now: sources.Git.
type Refresher interface {
	Trigger(repo, branch string) int
}

// ActionResult is the API's answer to an action (POST .../abort, retry,
// promote, approve, rollback, pause, resume, refresh): what was done, by
// whom, when and why, and what happens now.
type ActionResult struct {
	Action string `json:"action"`
	// Application is "source/name"; "" for an action on a whole source.
	Application string `json:"application,omitempty"`
	// Source is the source acted on.
	Source string `json:"source"`
	// Environment is "" for an action on a whole application or source.
	Environment string `json:"environment,omitempty"`
	// By is the name of the API token the action came with.
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
	// Message says what Jibe does now.
	Message string `json:"message"`
}

// actionBody is the JSON body an action may carry; every field is
// optional unless the action says otherwise.
type actionBody struct {
	Reason string `json:"reason"`
	Force  bool   `json:"force"`
	To     string `json:"to"`
}

// ActionError is an action refused: its HTTP status (400, 403, 404,
// 409) and a message saying why and what would apply.
type ActionError struct {
	Status  int
	Message string
}

func (e *ActionError) Error() string { return e.Message }

func actionErr(status int, format string, args ...any) *ActionError {
	return &ActionError{Status: status, Message: fmt.Sprintf(format, args...)}
}

// maxActionBody bounds an action's JSON body.
const maxActionBody = 64 << 10

// actionRoutes adds the actions' routes, behind the write scope; an
// action on what another agent owns is forwarded to it (see toOwner).
func (a *Agent) actionRoutes(mux *http.ServeMux) {
	write := func(pattern string, h http.Handler) { mux.Handle(pattern, a.Require(ScopeWrite, h)) }
	for _, act := range []string{reconcile.ActionAbort, reconcile.ActionRetry, reconcile.ActionPromote, reconcile.ActionApprove, reconcile.ActionRollback} {
		write("POST /api/v1/applications/{source}/{name}/environments/{env}/"+act, a.toOwner(scopeEnv, a.serveAction(act, scopeEnv)))
	}
	for _, act := range []string{reconcile.ActionPause, reconcile.ActionResume, reconcile.ActionRefresh} {
		write("POST /api/v1/applications/{source}/{name}/"+act, a.toOwner(scopeApp, a.serveAction(act, scopeApp)))
		write("POST /api/v1/sources/{source}/"+act, a.toOwner(scopeSource, a.serveAction(act, scopeSource)))
	}
}

// The scopes of an action: what it acts on.
const (
	scopeEnv = iota
	scopeApp
	scopeSource
)

// ActionRequest is an action as asked: what, on what, by whom (the
// token's name) and with which body fields.
type ActionRequest struct {
	Action string
	// App is the application (Name "" for a whole source); Env the
	// environment ("" for a whole application or source).
	App    reconcile.AppID
	Env    string
	By     string
	Reason string
	Force  bool
	To     string
}

func (a *Agent) serveAction(action string, scope int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readActionBody(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := ActionRequest{Action: action, App: appIDOf(r), Env: r.PathValue("env"), By: TokenName(r.Context()),
			Reason: strings.TrimSpace(body.Reason), Force: body.Force, To: strings.TrimSpace(body.To)}
		if scope == scopeSource {
			req.App.Name = ""
		}
		res, err := a.Act(r.Context(), req)
		var ae *ActionError
		switch {
		case errors.As(err, &ae):
			http.Error(w, ae.Message, ae.Status)
		case err != nil:
			http.Error(w, "the action failed: "+err.Error(), http.StatusInternalServerError)
		default:
			writeJSON(w, res)
		}
	}
}

// readActionBody decodes an action's optional JSON body.
func readActionBody(r *http.Request) (actionBody, error) {
	var body actionBody
	data, err := io.ReadAll(io.LimitReader(r.Body, maxActionBody+1))
	switch {
	case err != nil:
		return body, fmt.Errorf("reading the body: %w", err)
	case len(data) > maxActionBody:
		return body, fmt.Errorf("the body is larger than %d bytes", maxActionBody)
	case len(strings.TrimSpace(string(data))) == 0:
		return body, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return body, fmt.Errorf("the body is not the action's JSON (fields reason, force, to): %v", err)
	}
	return body, nil
}

// Act carries an action out: it journals it, emits it as an event and
// re-queues what it concerns, whose worker then does it (a rollout's
// steps never run on the request's goroutine). A refused action is an
// *ActionError.
func (a *Agent) Act(ctx context.Context, req ActionRequest) (ActionResult, error) {
	var (
		rec *reconcile.ActionRecord
		err error
	)
	switch {
	case req.App.Name == "":
		rec, err = a.actOnSource(req)
	case req.Env == "":
		rec, err = a.actOnApp(req)
	default:
		rec, err = a.actOnEnv(req)
	}
	if err != nil {
		return ActionResult{}, err
	}
	if err := a.opts.Journal.RecordAction(*rec); err != nil {
		return ActionResult{}, fmt.Errorf("journaling the action: %w", err)
	}
	a.announce(rec)
	res := ActionResult{Action: rec.Action, Source: rec.Source, Environment: rec.Env, By: rec.By, At: rec.At,
		Reason: rec.Reason, Message: rec.Message}
	if rec.App != "" {
		res.Application = rec.Source + "/" + rec.App
	}
	return res, nil
}

// announce emits the action's event (the live stream, commit status,
// notifications) and logs it.
func (a *Agent) announce(rec *reconcile.ActionRecord) {
	e := reconcile.Event{Kind: reconcile.EventAction, App: reconcile.AppID{Source: rec.Source, Name: rec.App}, Env: rec.Env,
		Revision: rec.Revision, Message: rec.Message}
	if rec.Rollout != "" {
		if r, err := a.opts.Journal.Get(rec.Rollout); err == nil {
			e.Rollout, e.Revision = r, r.Revision
		}
	}
	a.events.Emit(e)
	a.log.Warn("action "+rec.Action, "source", rec.Source, "app", rec.App, "env", rec.Env, "by", rec.By,
		"reason", rec.Reason, "message", rec.Message)
}

// record starts the journal's record of req.
func (a *Agent) record(req ActionRequest) *reconcile.ActionRecord {
	return &reconcile.ActionRecord{Action: req.Action, Source: req.App.Source, App: req.App.Name, Env: req.Env,
		By: req.By, At: a.opts.Clock.Now(), Reason: req.Reason, Force: req.Force}
}

// actOnSource pauses, resumes or refreshes every application of a
// source.
func (a *Agent) actOnSource(req ActionRequest) (*reconcile.ActionRecord, error) {
	src := a.config().Source(req.App.Source)
	if src == nil {
		return nil, actionErr(http.StatusNotFound, "no source %s: GET /api/v1/sources lists them", req.App.Source)
	}
	rec := a.record(req)
	keys := a.keysOfSource(src.Name)
	switch req.Action {
	case reconcile.ActionRefresh:
		rec.Message = a.refresh(src.Name, keys, "source "+src.Name)
	default:
		msg, err := a.pauseOrResume(rec, "source "+src.Name, "the applications of source "+src.Name)
		if err != nil {
			return nil, err
		}
		rec.Message = msg
	}
	a.queueAll(keys)
	return rec, nil
}

// actOnApp pauses, resumes or refreshes one application.
func (a *Agent) actOnApp(req ActionRequest) (*reconcile.ActionRecord, error) {
	st, _, err := a.actionTarget(req.App, "")
	if err != nil {
		return nil, err
	}
	rec := a.record(req)
	switch req.Action {
	case reconcile.ActionRefresh:
		rec.Message = a.refresh(req.App.Source, []string{st.key}, req.App.String())
	default:
		msg, err := a.pauseOrResume(rec, req.App.String(), req.App.String())
		if err != nil {
			return nil, err
		}
		rec.Message = msg
	}
	a.queue.Add(st.key)
	return rec, nil
}

// actionTarget finds the application (and, when env is not "", its
// environment) an action names; 404 otherwise.
func (a *Agent) actionTarget(id reconcile.AppID, env string) (*appState, []string, error) {
	a.mu.Lock()
	st, envs := a.byID[id], slices.Clone(a.envs[id])
	a.mu.Unlock()
	if st == nil {
		return nil, nil, actionErr(http.StatusNotFound, "no application %s: GET /api/v1/applications lists them", id)
	}
	if env != "" && !slices.Contains(envs, env) {
		return nil, nil, actionErr(http.StatusNotFound, "application %s has no environment %s; it has %s", id, env, strings.Join(envs, ", "))
	}
	return st, envs, nil
}

// keysOfSource returns the queue keys of a source's applications.
func (a *Agent) keysOfSource(source string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var keys []string
	for key, st := range a.apps {
		if st.source == source {
			keys = append(keys, key)
		}
	}
	return keys
}

func (a *Agent) queueAll(keys []string) {
	for _, k := range keys {
		a.queue.Add(k)
	}
}

// pauseOrResume records or lifts the pause of rec's application or
// source (what names it for people, whose the rollouts it holds).
func (a *Agent) pauseOrResume(rec *reconcile.ActionRecord, what, whose string) (string, error) {
	key := reconcile.PauseKey(reconcile.AppID{Source: rec.Source, Name: rec.App})
	h, err := a.opts.Journal.Hold(key)
	if err != nil {
		return "", err
	}
	if rec.Action == reconcile.ActionResume {
		if h == nil {
			return "", actionErr(http.StatusConflict, "%s is not paused; pause applies", what)
		}
		if err := a.opts.Journal.DeleteHold(key); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s resumed (paused by %s since %s): rollouts start and go on again, unless a freeze window is open", what, h.By, h.At.UTC().Format(time.RFC3339)), nil
	}
	if h != nil {
		return "", actionErr(http.StatusConflict, "%s is already paused, by %s since %s (%s); resume applies", what, h.By, h.At.UTC().Format(time.RFC3339), h.Reason)
	}
	if err := a.opts.Journal.SetHold(key, reconcile.Hold{Kind: reconcile.HoldPause, By: rec.By, At: rec.At, Reason: rec.Reason}); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s paused: no new rollout of %s starts, and a running one stops before its next step (a rollback still runs) until resume", what, whose), nil
}

// refresh polls the source now and compares the applications with live
// state at their next reconcile.
func (a *Agent) refresh(source string, keys []string, what string) string {
	polled := false
	if src := a.config().Source(source); src != nil && src.Git != nil && a.opts.Refresher != nil {
		polled = a.opts.Refresher.Trigger(src.Git.URL, src.Git.Branch) > 0
	}
	a.mu.Lock()
	for _, k := range keys {
		if st := a.apps[k]; st != nil && st.loaded != nil {
			clear(st.loaded.diffed)
		}
	}
	a.mu.Unlock()
	if polled {
		return fmt.Sprintf("refreshing %s: its source is polled now, and its environments are compared with live state", what)
	}
	return fmt.Sprintf("refreshing %s: its environments are compared with live state now", what)
}
