package agent

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jibe-dev/jibe/reconcile"
)

// AppView is what the API shows of one application: which revision runs
// in each environment, and how its last rollout went. Source and Name
// identify it (ID is "source/name"): two sources may each have an
// application of the same name.
type AppView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Source   string `json:"source"`
	Folder   string `json:"folder"`
	Revision string `json:"revision"`
	// Error is the last reconcile error (invalid spec, refused target...).
	Error        string    `json:"error,omitempty"`
	Environments []EnvView `json:"environments"`
}

// EnvView is an environment's latest rollout.
type EnvView struct {
	Name     string `json:"name"`
	Revision string `json:"revision"`
	State    string `json:"state"`
	// Step is the step the rollout is at, while it runs.
	Step string `json:"step,omitempty"`
	// Waiting says what the step waits for, e.g. who must approve.
	Waiting string    `json:"waiting,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Updated time.Time `json:"updated"`
	// Drift lists the resources that differ from Git, as last observed.
	Drift []string `json:"drift,omitempty"`
}

// Applications returns the view of every application, sorted by name,
// then source, then folder.
func (a *Agent) Applications() []AppView {
	// Environments are in promotion order. Rollouts that run for
	// environments the agent has not loaded yet (after a restart, before
	// the first reconcile) are shown too.
	running := map[reconcile.AppID][]string{}
	if rs, err := a.opts.Journal.Running(); err == nil {
		for _, r := range rs {
			running[r.AppID()] = append(running[r.AppID()], r.Env)
		}
	}
	a.mu.Lock()
	views := make([]AppView, 0, len(a.apps))
	ids := make([]reconcile.AppID, 0, len(a.apps))
	envs := make([][]string, 0, len(a.apps))
	for _, st := range a.apps {
		id := st.id()
		views, ids = append(views, appView(st)), append(ids, id)
		envs = append(envs, uniq(append(slices.Clone(a.envs[id]), running[id]...)))
	}
	drift, waiting := maps.Clone(a.drift), maps.Clone(a.waiting)
	for _, v := range a.departedViews() {
		id := reconcile.AppID{Source: v.Source, Name: v.Name}
		views, ids = append(views, v), append(ids, id)
		envs = append(envs, uniq(append(slices.Clone(a.envs[id]), running[id]...)))
	}
	a.mu.Unlock()
	for i := range views {
		views[i].Environments = a.envViews(ids[i], envs[i], drift, waiting)
	}
	sort.Slice(views, func(i, j int) bool {
		x, y := views[i], views[j]
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Source, y.Source), cmp.Compare(x.Folder, y.Folder)) < 0
	})
	return views
}

// appView is what the API shows of an application itself.
func appView(st *appState) AppView {
	id := st.id()
	v := AppView{ID: id.String(), Name: id.Name, Source: st.source, Folder: st.folder, Error: st.lastError}
	if st.revision != nil {
		v.Revision = st.revision.Commit
	}
	return v
}

// envViews returns the latest rollout of each of app's environments.
func (a *Agent) envViews(app reconcile.AppID, envs []string, drift map[string][]string, waiting map[string]string) []EnvView {
	out := []EnvView{}
	for _, env := range envs {
		r, err := a.opts.Journal.Current(app, env)
		if err != nil {
			continue
		}
		ev := envView(r)
		ev.Drift = drift[driftKey(app, env)]
		if !r.State.Final() {
			ev.Waiting = waiting[r.ID]
		}
		out = append(out, ev)
	}
	return out
}

// uniq drops repeated names, keeping the first of each.
func uniq(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func envView(r *reconcile.Rollout) EnvView {
	v := EnvView{Name: r.Env, Revision: r.Revision, State: r.State.String(), Reason: r.Reason, Updated: r.Updated}
	if !r.State.Final() && r.Next < len(r.Plan.Steps) {
		v.Step = r.Plan.Steps[r.Next].Kind.String()
	}
	return v
}

// metrics are the agent's Prometheus metrics.
type metrics struct {
	registry   *prometheus.Registry
	reconciles *prometheus.CounterVec
	events     *prometheus.CounterVec
	drift      *prometheus.CounterVec
	loads      *prometheus.CounterVec
	departed   *prometheus.GaugeVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_reconciles_total",
			Help: "Reconciles of applications, by source, application (empty for pull request previews) and outcome (ok, waiting, stalled, error).",
		}, []string{"source", "app", "outcome"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_rollout_events_total",
			Help: "Rollout events, by source, application and kind (started, succeeded, failed, rolled-back, superseded...).",
		}, []string{"source", "app", "kind"}),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_drift_detected_total",
			Help: "Times an environment's live state was found to differ from Git, by source and application.",
		}, []string{"source", "app"}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_spec_loads_total",
			Help: "Loads (decode, validation, rendering) of application specs by the reconciler, by source and application: one per revision and per last good revision a rollback may restore, not one per requeue.",
		}, []string{"source", "app"}),
		departed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jibe_departed_applications",
			Help: "Applications removed from Git that still run (1), by source and application: left running because their source does not prune, or while their deletion is in progress or refused.",
		}, []string{"source", "app"}),
	}
	m.registry.MustRegister(m.reconciles, m.events, m.drift, m.loads, m.departed,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// outcome names a reconcile outcome for metrics.
func outcome(err error) string {
	switch reconcile.PolicyOf(err) {
	case reconcile.PolicyNone:
		return "ok"
	case reconcile.PolicyRequeue:
		return "waiting"
	case reconcile.PolicyStall:
		return "stalled"
	}
	return "error"
}

// Handler serves the agent's HTTP API: /healthz, /metrics,
// /api/v1/applications, /api/v1/applications/{source}/{name}, and
// webhooks under /hooks/ when given.
func (a *Agent) Handler(webhooks http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/v1/applications", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, a.Applications())
	})
	mux.HandleFunc("GET /api/v1/applications/{source}/{name}", a.serveApplication)
	if webhooks != nil {
		mux.Handle("/hooks/", webhooks)
	}
	return mux
}

// serveApplication serves the view of one application, by source and
// name; 404 when the agent has none of that identity.
func (a *Agent) serveApplication(w http.ResponseWriter, r *http.Request) {
	id := reconcile.AppID{Source: r.PathValue("source"), Name: r.PathValue("name")}
	for _, v := range a.Applications() {
		if v.ID == id.String() {
			writeJSON(w, v)
			return
		}
	}
	http.Error(w, fmt.Sprintf("no application %s: GET /api/v1/applications lists them", id), http.StatusNotFound)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
