package agent

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/informers"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var benchApps = flag.Int("agent.apps", 100, "applications in BenchmarkSync")

// counter counts the requests a client sends to kube-apiserver, in all
// and by method and resource path (names of objects left out).
type counter struct {
	base     http.RoundTripper
	requests atomic.Int64
	byKind   sync.Map // "METHOD path" → *kindCount
}

// kindCount counts the requests of one method and path, and the time
// until their responses' headers.
type kindCount struct{ n, nanos atomic.Int64 }

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	k := r.Method + " " + resourcePath(r.URL.Path)
	if r.URL.Query().Get("watch") == "true" {
		k += " (watch)"
	}
	v, _ := c.byKind.LoadOrStore(k, &kindCount{})
	v.(*kindCount).n.Add(1)
	start := time.Now()
	resp, err := c.base.RoundTrip(r)
	v.(*kindCount).nanos.Add(int64(time.Since(start)))
	return resp, err
}

// resourcePath is an API path without namespace and object names.
func resourcePath(p string) string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	var out []string
	for i := 0; i < len(parts); i++ {
		out = append(out, parts[i])
		if (parts[i] == "namespaces" && i+1 < len(parts)) || (i > 0 && i+1 < len(parts) && isResource(parts[i])) {
			i++
		}
	}
	return strings.Join(out, "/")
}

func isResource(s string) bool {
	switch s {
	case "deployments", "services", "configmaps", "replicasets", "pods":
		return true
	}
	return false
}

// BenchmarkSync measures what the README's cost figures compare with Flux:
// a cold sync of N applications (a Deployment of two pods and a Service
// each, one namespace each) from one push, and how long after the last
// Deployment became available it was reported; the kube API requests and
// CPU of idle resync passes over them afterwards; a push of one
// application among N until it is reported succeeded; and the kube API
// requests and info log lines of an image bump of every application (-v
// lists the requests by method and resource).
//
//	go test ./agent -run '^$' -bench Sync -benchtime 1x
func BenchmarkSync(b *testing.B) {
	for b.Loop() {
		benchmarkSync(b, *benchApps)
	}
}

func benchmarkSync(b *testing.B, n int) {
	c := kube.Shared(b)
	cfg := c.RESTConfig()
	count := &counter{}
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { count.base = rt; return count }
	platform := kubernetes.New(map[string]*rest.Config{"test": cfg})
	defer platform.Close()
	info := &infoCounter{}
	h := newHarnessWith(b, e2eConfig, func(_ *harness, o *Options) {
		o.Platforms = map[spec.Platform]reconcile.Platform{spec.PlatformKubernetes: platform}
		o.Logger = slog.New(info)
	})
	avail := watchAvailable(b, c.RESTConfig())
	h.work(b)
	files := map[string]string{}
	nss := make([]string, n) // each application's namespace
	for i := range n {
		ns := c.NewNamespace(b)
		nss[i] = ns
		app := fmt.Sprintf("app%03d", i)
		files["apps/"+app+"/jibe.yaml"] = fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: %s}
spec:
  targets: [{name: web, kubernetes: {manifests: k8s}}]
  environments: [{name: prod, kubernetes: {cluster: test, namespace: %s}}]
`, app, ns)
		files["apps/"+app+"/k8s/app.yaml"] = webManifests("registry.example.com/web:1", 600)
	}
	traces := map[reconcile.AppID]*pushTrace{}
	if testing.Verbose() {
		for i, ns := range nss {
			id := reconcile.AppID{Source: "shop", Name: fmt.Sprintf("app%03d", i)}
			traces[id] = traceApp(h, id, avail, ns+"/web")
		}
	}
	count.byKind.Clear()
	before := count.requests.Load()
	start := time.Now()
	sha := h.commit(files)
	h.poll()
	apps := make([]int, n)
	for i := range apps {
		apps[i] = i
	}
	reported := h.settleBench(b, sha, apps, "cold sync")
	b.ReportMetric(reported.Sub(start).Seconds(), "cold-sync-s")
	b.ReportMetric(reported.Sub(avail.last()).Seconds(), "cold-reported-after-available-s")
	b.ReportMetric(float64(count.requests.Load()-before)/float64(n), "requests/first-deploy")
	if testing.Verbose() {
		count.log(b, n, "cold sync")
		last := h.logLags(b, nss, avail, start)
		traces[last].report(b, start, reported)
	}

	const passes = 10
	before = count.requests.Load()
	cpu := cpuTime()
	for range passes {
		done := h.reconciles() + float64(n)
		h.agent.resync()
		for h.reconciles() < done {
			select {
			case <-b.Context().Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
	}
	b.ReportMetric(float64(count.requests.Load()-before)/passes, "requests/idle-pass")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/passes, "cpu-ms/idle-pass")

	// One application among n: push to succeeded, the poll triggered as a
	// push webhook triggers it (sources.Git.Trigger, the source running).
	first := nss[0]
	tr := traceApp(h, reconcile.AppID{Source: "shop", Name: "app000"}, avail, first+"/web")
	h.runSource(b, tr)
	sha = h.commit(map[string]string{"apps/app000/k8s/app.yaml": webManifests("registry.example.com/web:2", 600)})
	start = time.Now() // the push: the commit is on the server
	if h.git.Trigger(h.repo.URL(), "") != 1 {
		b.Fatal("the trigger matched no poller")
	}
	reported = h.settleBench(b, sha, []int{0}, "one push")
	b.ReportMetric(reported.Sub(start).Seconds(), "push-to-succeeded-s")
	b.ReportMetric(reported.Sub(avail.at(first+"/web")).Seconds(), "push-reported-after-available-s")
	tr.report(b, start, reported)

	// Every application's image bumped at once: kube API requests each.
	bump := map[string]string{}
	for i := range n {
		bump[fmt.Sprintf("apps/app%03d/k8s/app.yaml", i)] = webManifests("registry.example.com/web:3", 600)
	}
	before, lines := count.requests.Load(), info.lines.Load()
	count.byKind.Clear()
	sha = h.commit(bump)
	h.poll()
	h.settleBench(b, sha, apps, "image bump")
	b.ReportMetric(float64(count.requests.Load()-before)/float64(n), "requests/image-bump")
	b.ReportMetric(float64(info.lines.Load()-lines)/float64(n), "info-lines/image-bump")
	if testing.Verbose() {
		count.log(b, n, "image bump")
	}
}

// log logs the requests counted since byKind was last cleared, per
// application and with their mean latency, by method and resource.
func (c *counter) log(b *testing.B, n int, what string) {
	var lines []string
	c.byKind.Range(func(k, v any) bool {
		kc := v.(*kindCount)
		lines = append(lines, fmt.Sprintf("%6.1f per app, mean %6.1f ms  %s", float64(kc.n.Load())/float64(n),
			float64(kc.nanos.Load())/1e6/float64(kc.n.Load()), k))
		return true
	})
	sort.Strings(lines)
	b.Logf("%s, kube API requests:\n%s", what, strings.Join(lines, "\n"))
}

// work runs the agent's workers (reconcile.maxConcurrentRollouts of
// them, as Run does) until the benchmark ends.
func (h *harness) work(b *testing.B) {
	var wg sync.WaitGroup
	for range h.agent.config().Reconcile.MaxConcurrentRollouts {
		wg.Go(func() {
			for h.agent.processNext(b.Context()) {
			}
		})
	}
	b.Cleanup(func() { h.agent.queue.ShutDown(); wg.Wait() })
}

// reconciles returns the number of reconciles the agent has run. It
// collects that one counter, not the registry: waits poll it every
// millisecond, and a whole Gather would count in the idle passes' CPU.
func (h *harness) reconciles() float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { h.agent.metrics.reconciles.Collect(ch); close(ch) }()
	var n float64
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			h.t.Fatal(err)
		}
		n += pb.GetCounter().GetValue()
	}
	return n
}

// settleBench waits until the applications numbered apps run commit sha
// successfully, reconciled by the agent's workers (see work): waits end on
// watch events or their timers (the wall clock). It returns when the last
// rollout was journaled succeeded.
func (h *harness) settleBench(b *testing.B, sha string, apps []int, what string) time.Time {
	deadline := time.Now().Add(5 * time.Minute)
	var last time.Time
	for _, i := range apps {
		id := reconcile.AppID{Source: "shop", Name: fmt.Sprintf("app%03d", i)}
		for {
			r, err := h.journal.Current(id, "prod")
			if err == nil && r.Revision == sha && r.State == reconcile.RolloutSucceeded {
				last = maxTime(last, r.Updated)
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s: %s not done after 5 minutes", what, id)
			}
			select {
			case <-b.Context().Done():
				return last
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return last
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// available records when each Deployment of the cluster was last seen
// fully rolled out (every replica updated and available at its latest
// generation).
type available struct {
	mu    sync.Mutex
	times map[string]time.Time
	// hooks are told of a Deployment's new generation and its
	// availability, by namespace/name.
	hooks map[string]func(string)
}

// onChange has f told of Deployment key's new generations and
// availability.
func (a *available) onChange(key string, f func(string)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hooks == nil {
		a.hooks = map[string]func(string){}
	}
	a.hooks[key] = f
}

// at returns when Deployment namespace/name was last seen rolled out.
func (a *available) at(key string) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.times[key]
}

// last returns when the last Deployment was seen rolled out.
func (a *available) last() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	var t time.Time
	for _, at := range a.times {
		t = maxTime(t, at)
	}
	return t
}

// watchAvailable watches the cluster's Deployments until the benchmark
// ends.
func watchAvailable(b *testing.B, cfg *rest.Config) *available {
	cs := k8s.NewForConfigOrDie(cfg)
	a := &available{times: map[string]time.Time{}}
	f := informers.NewSharedInformerFactory(cs, 0)
	note := func(obj any) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok || d.Spec.Replicas == nil {
			return
		}
		s := d.Status
		done := s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == *d.Spec.Replicas &&
			s.AvailableReplicas == *d.Spec.Replicas && s.Replicas == *d.Spec.Replicas
		key := d.Namespace + "/" + d.Name
		a.mu.Lock()
		defer a.mu.Unlock()
		hook := a.hooks[key]
		if _, seen := a.times[key]; done && !seen {
			a.times[key] = time.Now()
			if hook != nil {
				hook("Deployment available")
			}
		} else if !done {
			delete(a.times, key)
		}
	}
	generation := func(old, obj any) {
		o, ok1 := old.(*appsv1.Deployment)
		d, ok2 := obj.(*appsv1.Deployment)
		if !ok1 || !ok2 || o.Generation == d.Generation {
			return
		}
		a.mu.Lock()
		hook := a.hooks[d.Namespace+"/"+d.Name]
		a.mu.Unlock()
		if hook != nil {
			hook(fmt.Sprintf("Deployment generation %d seen", d.Generation))
		}
	}
	_, _ = f.Apps().V1().Deployments().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: note, UpdateFunc: func(old, obj any) { generation(old, obj); note(obj) }})
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	return a
}

// infoCounter is a slog handler counting the records at info and above.
type infoCounter struct{ lines atomic.Int64 }

func (c *infoCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (c *infoCounter) Handle(context.Context, slog.Record) error {
	c.lines.Add(1)
	return nil
}

func (c *infoCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *infoCounter) WithGroup(string) slog.Handler      { return c }

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pushTrace timestamps one application's push on its way to succeeded:
// the poll, the rollout's start and steps (the agent's events), the
// Deployment's new generation and its availability (the cluster's watch).
type pushTrace struct {
	mu    sync.Mutex
	marks []traceMark
}

type traceMark struct {
	what string
	at   time.Time
}

func (t *pushTrace) mark(what string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.marks = append(t.marks, traceMark{what, time.Now()})
}

// traceApp traces application id, whose Deployment is key of avail.
func traceApp(h *harness, id reconcile.AppID, avail *available, key string) *pushTrace {
	t := &pushTrace{}
	h.agent.Subscribe(reconcile.SubscriberFunc(func(e reconcile.Event) {
		if e.App != id {
			return
		}
		what := e.Kind.String()
		if e.Step != nil {
			what += " " + e.Step.Kind.String()
		}
		t.mark(what)
	}))
	avail.onChange(key, t.mark)
	return t
}

// report logs each mark as seconds after start, and the total at
// reported.
func (t *pushTrace) report(b *testing.B, start, reported time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	marks := append([]traceMark{}, t.marks...)
	sort.SliceStable(marks, func(i, j int) bool { return marks[i].at.Before(marks[j].at) })
	var lines []string
	prev := start
	for _, m := range marks {
		if m.at.Before(start) {
			continue
		}
		lines = append(lines, fmt.Sprintf("%7.3fs (+%.3fs) %s", m.at.Sub(start).Seconds(), m.at.Sub(prev).Seconds(), m.what))
		prev = m.at
	}
	lines = append(lines, fmt.Sprintf("%7.3fs journaled succeeded", reported.Sub(start).Seconds()))
	b.Logf("from the commit being on the server:\n%s", strings.Join(lines, "\n"))
}

// runSource runs h's Git source, handing its Updates to the agent and
// marking them in tr, until the benchmark ends. It returns once the
// source's first (unchanged) poll is done.
func (h *harness) runSource(b *testing.B, tr *pushTrace) {
	before := h.git.Status()[0].LastPoll
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan sources.Update)
	done := make(chan struct{})
	go func() { defer close(done); _ = h.git.Run(ctx, out) }()
	b.Cleanup(func() { cancel(); <-done })
	go func() {
		for {
			select {
			case u := <-out:
				tr.mark("polled (fetch, folders compared)")
				h.agent.Handle(u)
				tr.mark("handled (queued)")
			case <-ctx.Done():
				return
			}
		}
	}()
	for deadline := time.Now().Add(time.Minute); h.git.Status()[0].LastPoll.Equal(before); {
		if time.Now().After(deadline) {
			b.Fatal("the source did not poll within a minute")
		}
		select {
		case <-b.Context().Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// logLags logs, for the cold sync, how long after its Deployment became
// available each application was journaled succeeded, and the last
// availabilities and reports, as seconds after start. It returns the
// application reported last.
func (h *harness) logLags(b *testing.B, nss []string, avail *available, start time.Time) reconcile.AppID {
	type app struct {
		name                string
		available, reported time.Time
	}
	apps := make([]app, len(nss))
	for i, ns := range nss {
		id := reconcile.AppID{Source: "shop", Name: fmt.Sprintf("app%03d", i)}
		r, err := h.journal.Current(id, "prod")
		if err != nil {
			b.Fatal(err)
		}
		apps[i] = app{id.Name, avail.at(ns + "/web"), r.Updated}
	}
	lag := func(a app) time.Duration { return a.reported.Sub(a.available) }
	sort.Slice(apps, func(i, j int) bool { return lag(apps[i]) < lag(apps[j]) })
	at := func(t time.Time) float64 { return t.Sub(start).Seconds() }
	q := func(f float64) time.Duration { return lag(apps[int(f*float64(len(apps)-1))]).Round(time.Millisecond) }
	b.Logf("cold sync: succeeded after available: median %s, p90 %s, max %s (%s: available %.3fs, succeeded %.3fs)",
		q(0.5), q(0.9), q(1), apps[len(apps)-1].name, at(apps[len(apps)-1].available), at(apps[len(apps)-1].reported))
	sort.Slice(apps, func(i, j int) bool { return apps[i].reported.Before(apps[j].reported) })
	var lines []string
	for _, a := range apps[max(0, len(apps)-10):] {
		lines = append(lines, fmt.Sprintf("%s available %.3fs succeeded %.3fs", a.name, at(a.available), at(a.reported)))
	}
	b.Logf("cold sync, the last 10 reported:\n%s", strings.Join(lines, "\n"))
	b.Logf("cold sync: %s", h.queueStats(len(nss)))
	return reconcile.AppID{Source: "shop", Name: apps[len(apps)-1].name}
}

// queueStats summarises the work queue's metrics: reconciles per
// application, mean time waiting for a worker, and mean reconcile time.
func (h *harness) queueStats(n int) string {
	families, err := h.agent.metrics.registry.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	mean := map[string]string{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if hist := m.GetHistogram(); hist != nil && hist.GetSampleCount() > 0 {
				mean[f.GetName()] = fmt.Sprintf("%d, mean %.1f ms", hist.GetSampleCount(),
					1000*hist.GetSampleSum()/float64(hist.GetSampleCount()))
			}
		}
	}
	return fmt.Sprintf("%.1f reconciles per application; queue wait %s; work %s",
		h.reconciles()/float64(n), mean["workqueue_queue_duration_seconds"], mean["workqueue_work_duration_seconds"])
}
