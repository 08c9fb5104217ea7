package agent

import (
	"io/fs"
	"net/url"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Subscribe adds s to the reporters of the agent's events: every engine
// event of a rollout, every revision refused before a rollout and every
// plan preview (see reconcile.Event). Call it before Run; s must not
// block. The agent's own metrics, API and logs subscribe in New; commit
// statuses (github.EventStatuses) and notifications (slack.Notifier) are
// subscribed by whoever wires the agent.
func (a *Agent) Subscribe(s reconcile.Subscriber) { a.events.Subscribe(s) }

// subscribeOwn subscribes the agent's metrics, API and logs to its events.
func (a *Agent) subscribeOwn() {
	a.events.Subscribe(reconcile.SubscriberFunc(a.countEvent))
	a.events.Subscribe(reconcile.SubscriberFunc(a.countRollout))
	a.events.Subscribe(reconcile.SubscriberFunc(a.noteWaiting))
	a.events.Subscribe(reconcile.SubscriberFunc(a.logEvent))
	a.events.Subscribe(reconcile.SubscriberFunc(a.noteForViews))
}

// countEvent counts rollout events for metrics.
func (a *Agent) countEvent(e reconcile.Event) {
	if e.Rollout != nil {
		a.metrics.events.WithLabelValues(e.App.Source, e.App.Name, e.Kind.String()).Inc()
	}
}

// noteWaiting records what a rollout waits for, for the API, until its
// next event.
func (a *Agent) noteWaiting(e reconcile.Event) {
	if e.Rollout == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if e.Kind == reconcile.EventWaiting {
		a.waiting[e.Rollout.ID] = e.Message
	} else {
		delete(a.waiting, e.Rollout.ID)
	}
}

// logEvent logs an event.
func (a *Agent) logEvent(e reconcile.Event) {
	attrs := []any{"source", e.App.Source, "app", e.App.Name, "env", e.Env,
		"revision", reconcile.ShortRevision(e.Revision), "step", stepName(e.Step), "message", e.Message}
	switch {
	case e.Kind == reconcile.EventAction: // logged by announce
	case e.Rollout == nil && e.Kind == reconcile.EventWaiting:
		a.log.Info("rollout held", attrs...)
	case e.Rollout != nil && !a.newWait(e):
		a.log.Debug("rollout "+e.Kind.String(), attrs...)
	case e.Rollout != nil:
		a.log.Info("rollout "+e.Kind.String(), attrs...)
	case e.Kind.Refused():
		a.log.Info("revision refused", append(attrs, "event", e.Kind.String(), "folder", e.Folder)...)
	case e.Kind == reconcile.EventDeparted || e.Kind == reconcile.EventDeleting || e.Kind == reconcile.EventDeleted:
		a.log.Warn("application removed from Git", append(attrs, "event", e.Kind.String())...)
	default:
		a.log.Info("plan previewed", append(attrs, "event", e.Kind.String())...)
	}
}

// newWait reports whether e is worth a line at info: any event but a wait
// whose reason its rollout's last event already gave.
func (a *Agent) newWait(e reconcile.Event) bool {
	a.logMu.Lock()
	defer a.logMu.Unlock()
	if e.Kind != reconcile.EventWaiting {
		delete(a.logged, e.Rollout.ID)
		return true
	}
	if a.logged[e.Rollout.ID] == e.Message {
		return false
	}
	a.logged[e.Rollout.ID] = e.Message
	return true
}

func stepName(s *reconcile.Step) string {
	if s == nil {
		return ""
	}
	return s.Kind.String()
}

// refused emits the refusal of app's revision commit in env (or "spec"):
// kind says why, message what to do.
func (a *Agent) refused(st *appState, kind reconcile.EventKind, commit, env, message string) {
	a.events.Emit(reconcile.Event{Kind: kind, App: st.id(), Env: env, Revision: commit, Message: message})
}

// AppURL returns the address of an application's page under the agent's
// external URL, /apps/<source>/<name>, or "" when there is none.
func AppURL(externalURL string, app reconcile.AppID) string {
	if externalURL == "" {
		return ""
	}
	return strings.TrimSuffix(externalURL, "/") + "/apps/" + url.PathEscape(app.Source) + "/" + url.PathEscape(app.Name)
}

// reportInvalid reports an invalid spec, naming its first problem, on
// every environment the spec can still be read to name (or on "spec" when
// it cannot), so the author sees it on the commit.
func (a *Agent) reportInvalid(st *appState, commit string, err error) {
	problems := strictyaml.AsList(err)
	desc := "invalid spec: " + err.Error()
	if len(problems) > 0 {
		desc = "invalid spec: " + problems[0].Error()
		if len(problems) > 1 {
			desc += " (and " + strconv.Itoa(len(problems)-1) + " more; run jibe validate)"
		}
	}
	name, envs := readNames(st)
	if name != "" {
		a.named(st, name)
	}
	if len(envs) == 0 || len(envs) > a.config().Limits.Spec().Environments {
		envs = []string{"spec"} // one status, not one per environment of a spec refused for having too many
	}
	for _, env := range envs {
		a.refused(st, reconcile.EventSpecInvalid, commit, env, desc)
	}
}

// readNames reads the application and environment names of a spec that
// does not validate, as far as they can be read.
func readNames(st *appState) (string, []string) {
	data, err := readSpec(st)
	if err != nil {
		return "", nil
	}
	var doc struct {
		Metadata struct{ Name string }
		Spec     struct{ Environments []struct{ Name string } }
	}
	_ = yaml.Unmarshal(data, &doc)
	var envs []string
	for _, e := range doc.Spec.Environments {
		if e.Name != "" {
			envs = append(envs, e.Name)
		}
	}
	return doc.Metadata.Name, envs
}

func readSpec(st *appState) ([]byte, error) {
	return fs.ReadFile(st.revision.Files, spec.FileName)
}
