package agent

import (
	"io/fs"
	"net/url"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/providers/github"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Notifier receives engine events for people: slack.Notifier.
type Notifier interface {
	Notify(reconcile.Event)
}

// onEvent turns an engine event into the environment's commit status and
// a notification.
func (a *Agent) onEvent(e reconcile.Event) {
	a.metrics.events.WithLabelValues(e.Rollout.Source, e.Rollout.App, e.Kind.String()).Inc()
	if a.opts.Notifier != nil {
		a.opts.Notifier.Notify(e)
	}
	a.log.Info("rollout "+e.Kind.String(), "source", e.Rollout.Source, "app", e.Rollout.App, "env", e.Rollout.Env,
		"revision", reconcile.ShortRevision(e.Rollout.Revision), "step", stepName(e.Step), "message", e.Message)
	a.mu.Lock()
	st := a.byID[e.Rollout.AppID()]
	if e.Kind == reconcile.EventWaiting {
		a.waiting[e.Rollout.ID] = e.Message
	} else {
		delete(a.waiting, e.Rollout.ID)
	}
	a.mu.Unlock()
	if st == nil {
		return
	}
	state, desc := statusOf(e)
	a.post(st, e.Rollout.Revision, e.Rollout.Env, state, desc)
}

// statusOf maps an event to a status state and description.
func statusOf(e reconcile.Event) (github.State, string) {
	switch e.Kind {
	case reconcile.EventSucceeded:
		if e.Rollout.Correction {
			return github.StateSuccess, "drift corrected: live state matches Git again"
		}
		if e.Rollout.Plan.InSync() {
			return github.StateSuccess, "in sync with Git"
		}
		return github.StateSuccess, "rolled out and verified"
	case reconcile.EventFailed:
		if e.Rollout.State.Final() { // the message says what was done
			return github.StateFailure, "failed, " + e.Message
		}
		return github.StatePending, "failed, rolling back: " + e.Message
	case reconcile.EventRolledBack:
		return github.StateFailure, "rolled back: " + e.Message
	case reconcile.EventSuperseded:
		return github.StateError, e.Message
	}
	if e.Rollout.State == reconcile.RolloutFailed {
		return github.StateFailure, e.Message
	}
	return github.StatePending, e.Message
}

func stepName(s *reconcile.Step) string {
	if s == nil {
		return ""
	}
	return s.Kind.String()
}

// post posts the status of app's environment at commit.
func (a *Agent) post(st *appState, commit, env string, state github.State, desc string) {
	id := st.id()
	a.postStatus(st.owner, st.repo, id.Name, id, commit, env, state, desc)
}

// postStatus posts the status of an environment (or "plan") at commit of
// a repository: under the context named after app (an application's name,
// or the folder of one whose name is refused), linking to the page of
// application id.
func (a *Agent) postStatus(owner, repo, app string, id reconcile.AppID, commit, env string, state github.State, desc string) {
	cfg := a.config()
	if a.opts.Statuses == nil || repo == "" || cfg.GitHub == nil {
		return
	}
	a.opts.Statuses.Post(github.Status{
		Owner: owner, Repo: repo, SHA: commit, State: state, Description: desc,
		Context:   github.StatusContext(cfg.GitHub.StatusContext, id.Source, app, env),
		TargetURL: AppURL(cfg.Server.ExternalURL, id),
	})
}

// AppURL returns the address of an application's page under the agent's
// external URL, /apps/<source>/<name>, or "" when there is none.
func AppURL(externalURL string, app reconcile.AppID) string {
	if externalURL == "" {
		return ""
	}
	return strings.TrimSuffix(externalURL, "/") + "/apps/" + url.PathEscape(app.Source) + "/" + url.PathEscape(app.Name)
}

// reportInvalid posts a failure naming the first problem of an invalid
// spec on every environment the spec can still be read to name (or on
// "spec" when it cannot), so the author sees it on the commit.
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
		a.post(st, commit, env, github.StateFailure, desc)
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

// repository returns the GitHub owner and name of a source's repository:
// its repository setting, or its URL's path on GitHub.
func repository(src *config.Source) (owner, repo string) {
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
