package hatest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/watch"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/agentproc"
	"github.com/jibe-dev/jibe/reconcile"
)

// shop is the application of the leader tests: a Deployment rolled out by
// canary (replica ratio, no route) with the given steps.
var shop = reconcile.AppID{Source: source, Name: "shop"}

func shopFiles(ns, version, steps string) map[string]string {
	return map[string]string{
		"shop/jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  artifacts: {web: {image: "registry.example.com/shop/web:` + version + `"}}
  targets: [{name: web, kubernetes: {manifests: k8s}}]
  environments:
    - name: production
      kubernetes: {cluster: test, namespace: ` + ns + `}
      strategy: {canary: {steps: ` + steps + `}}
`,
		"shop/k8s/app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "${artifacts.web}"}]
`,
	}
}

// waitRollout polls the journal until the production rollout of shop
// at revision satisfies cond, and returns it.
func waitRollout(t *testing.T, j *reconcile.Journal, revision, what string, timeout time.Duration, cond func(*reconcile.Rollout) bool) *reconcile.Rollout {
	t.Helper()
	var r *reconcile.Rollout
	agentproc.Poll(t, timeout, what, func() (bool, string) {
		var err error
		r, err = j.Current(shop, "production")
		if err != nil || r == nil {
			return false, fmt.Sprintf("current rollout: %v, %v", r, err)
		}
		return r.Revision == revision && cond(r), describeRollout(r)
	})
	return r
}

func describeRollout(r *reconcile.Rollout) string {
	next := "-"
	if r.Next < len(r.Plan.Steps) {
		next = r.Plan.Steps[r.Next].Kind.String()
	}
	return fmt.Sprintf("rollout %s state %s next %d (%s) outcomes %d reason %q", r.ID, r.State, r.Next, next, len(r.Outcomes), r.Reason)
}

func succeeded(r *reconcile.Rollout) bool { return r.State == reconcile.RolloutSucceeded }

// nextIs reports a running rollout whose next step is of kind k.
func nextIs(k reconcile.StepKind) func(*reconcile.Rollout) bool {
	return func(r *reconcile.Rollout) bool {
		return r.State == reconcile.RolloutRunning && r.Next < len(r.Plan.Steps) && r.Plan.Steps[r.Next].Kind == k
	}
}

// eachStepOnce checks that every step of r's plan succeeded exactly once
// and that no step failed.
func eachStepOnce(t *testing.T, r *reconcile.Rollout) {
	t.Helper()
	done := map[int]int{}
	for _, o := range r.Outcomes {
		if o.Error != "" {
			t.Errorf("step %d (%s) failed: %s", o.Step, o.Kind, o.Error)
			continue
		}
		done[o.Step]++
	}
	for i, s := range r.Plan.Steps {
		if done[i] != 1 {
			t.Errorf("step %d (%s) succeeded %d times, want once; outcomes %+v", i, s.Kind, done[i], r.Outcomes)
		}
	}
}

// leaderAndStandby waits for one of a and b to hold the leader Lease.
func (e *env) leaderAndStandby(a, b *agent) (leader, standby *agent) {
	e.t.Helper()
	agentproc.Poll(e.t, 30*time.Second, "a leader", func() (bool, string) {
		id := e.leader()
		return id == a.id || id == b.id, "holder " + id
	})
	if e.leader() == a.id {
		return a, b
	}
	return b, a
}

// statusHistory returns the states posted for context on sha, oldest first.
func (e *env) statusHistory(sha, context string) []githubemu.StatusState {
	var out []githubemu.StatusState
	for _, s := range e.gh.Statuses(repository, sha) {
		if strings.EqualFold(s.Context, context) {
			out = append(out, s.State)
		}
	}
	return out
}

// checkStatuses checks that context on sha went pending → success, with
// nothing else in between but pending.
func (e *env) checkStatuses(t *testing.T, sha, context string) {
	t.Helper()
	var h []githubemu.StatusState
	agentproc.Poll(t, 30*time.Second, "the success status of "+sha[:7], func() (bool, string) {
		h = e.statusHistory(sha, context)
		return len(h) > 0 && h[len(h)-1] == githubemu.StatusSuccess, fmt.Sprintf("statuses %v", h)
	})
	if h[0] != githubemu.StatusPending {
		t.Errorf("%s on %s: statuses %v, want pending first", context, sha[:7], h)
	}
	for _, s := range h[:len(h)-1] {
		if s != githubemu.StatusPending {
			t.Errorf("%s on %s: statuses %v, want only pending before success", context, sha[:7], h)
		}
	}
}

// deploymentWrites records every change of the Deployments' specs in a
// namespace, by the generation the API server gave it.
type deploymentWrites struct {
	mu     sync.Mutex
	byName map[string][]string // name → spec summaries, one per generation seen
	gens   map[string]int64
	events []string
}

func watchDeployments(t *testing.T, e *env) *deploymentWrites {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := e.cluster.Clientset().AppsV1().Deployments(e.appNS).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &deploymentWrites{byName: map[string][]string{}, gens: map[string]int64{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			dep, ok := ev.Object.(*appsv1.Deployment)
			if !ok {
				continue
			}
			d.record(ev.Type, dep)
		}
	}()
	t.Cleanup(func() { cancel(); w.Stop(); <-done })
	return d
}

func (d *deploymentWrites) record(typ watch.EventType, dep *appsv1.Deployment) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if typ == watch.Deleted {
		d.events = append(d.events, "delete "+dep.Name)
		d.gens[dep.Name] = 0
		d.byName[dep.Name] = append(d.byName[dep.Name], "deleted")
		return
	}
	if dep.Generation == d.gens[dep.Name] {
		return // a status update
	}
	d.gens[dep.Name] = dep.Generation
	image := ""
	if cs := dep.Spec.Template.Spec.Containers; len(cs) > 0 {
		image = cs[0].Image
	}
	replicas := int32(1)
	if dep.Spec.Replicas != nil {
		replicas = *dep.Spec.Replicas
	}
	s := fmt.Sprintf("%s×%d", image, replicas)
	d.byName[dep.Name] = append(d.byName[dep.Name], s)
	d.events = append(d.events, fmt.Sprintf("%s gen %d %s", dep.Name, dep.Generation, s))
}

// checkNoRepeat fails when a Deployment came back to a spec it had left:
// the trace of a step that ran again after the ones that followed it.
func (d *deploymentWrites) checkNoRepeat(t *testing.T) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, specs := range d.byName {
		seen := map[string]bool{}
		for i, s := range specs {
			if seen[s] && (i == 0 || specs[i-1] != s) {
				t.Errorf("deployment %s went back to %s: writes %v (all: %v)", name, s, specs, d.events)
			}
			seen[s] = true
		}
	}
	t.Logf("deployment writes during the rollout: %v", d.events)
}

// An agent killed (SIGKILL) while a canary pauses: the standby takes the
// leader Lease within the lease duration, claims the application, and
// finishes the rollout from the journaled step; no step runs twice and
// the commit status goes pending → success.
func TestLeaderKilledDuringCanaryPause(t *testing.T) {
	e := newEnv(t, envOptions{})
	a, b := e.start("a"), e.start("b")
	e.waitReady(a, b)
	j := e.journal()
	steps := "[{setWeight: 50}, {pause: {duration: 8s}}, {setWeight: 100}]"

	v1 := e.push(shopFiles(e.appNS, "1.0.0", steps))
	waitRollout(t, j, v1, "the first deploy", 90*time.Second, succeeded)
	leader, standby := e.leaderAndStandby(a, b)
	writes := watchDeployments(t, e)

	v2 := e.push(shopFiles(e.appNS, "1.1.0", steps))
	waitRollout(t, j, v2, "the canary pauses", 60*time.Second, nextIs(reconcile.StepPause))
	if w := e.writerOf(shop); w != leader.id {
		t.Errorf("the part of %s is written by %q, want the leader %s", shop, w, leader.id)
	}
	if err := leader.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-leader.proc.Done()

	// The Lease expires leaseDuration after its last renewal and the
	// standby tries every retryPeriod: 3×leaseDuration leaves room for a
	// loaded machine; the figure is logged below.
	agentproc.Poll(t, 3*leaseDuration, "the standby takes the leader Lease", func() (bool, string) {
		id := e.leader()
		return id == standby.id, "holder " + id
	})
	tookOver := time.Since(killed)
	agentproc.Poll(t, 30*time.Second, "the standby claims the application", func() (bool, string) {
		w := e.writerOf(shop)
		return w == standby.id, "writer " + w
	})
	claimed := time.Since(killed)
	r := waitRollout(t, j, v2, "the standby finishes the rollout", 60*time.Second, succeeded)
	t.Logf("leader %s killed: Lease taken after %s, application claimed after %s, rollout done after %s",
		leader.id, tookOver.Round(time.Millisecond), claimed.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))

	eachStepOnce(t, r)
	writes.checkNoRepeat(t)
	e.checkStatuses(t, v1, "jibe/shop/production")
	e.checkStatuses(t, v2, "jibe/shop/production")
	if got := e.logsMention(fencedText); len(got) > 0 {
		t.Errorf("fenced writes logged by %v: the standby never wrote before its claim", got)
	}
	if !standby.proc.Running() {
		t.Errorf("the standby exited: %v", standby.proc.Err())
	}
}

// checkServer answers a canary's HTTP check: the first request is held
// until released and then fails (503), every later one passes. A stale
// leader that got the first request and wrote its outcome would fail the
// rollout.
type checkServer struct {
	*httptest.Server
	requests atomic.Int32
	first    chan struct{} // closed when the first request arrives
	release  chan struct{} // closed to answer it
	once     sync.Once
}

func newCheckServer(t *testing.T) *checkServer {
	s := &checkServer{first: make(chan struct{}), release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.requests.Add(1) == 1 {
			close(s.first)
			<-s.release
			http.Error(w, "stale", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(func() { s.Release(); s.Close() })
	return s
}

// Release answers the first request.
func (s *checkServer) Release() { s.once.Do(func() { close(s.release) }) }

// A leader stopped (SIGSTOP) in the middle of a step cannot renew its
// Lease: the standby takes over, claims the application and finishes the
// rollout. Continued (SIGCONT), the former leader completes the step it
// was in: its journal write is refused (reconcile.ErrFenced, logged), it
// stops acting and exits non-zero, and nothing it did after the takeover
// is in the journal.
func TestStaleLeaderWriteRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	check := newCheckServer(t)
	a, b := e.start("a"), e.start("b")
	e.waitReady(a, b)
	j := e.journal()
	steps := fmt.Sprintf("[{setWeight: 50}, {analysis: {checks: [{http: {url: %q, timeout: 60s}}]}}, {setWeight: 100}]", check.URL+"/healthz")

	v1 := e.push(shopFiles(e.appNS, "1.0.0", steps))
	waitRollout(t, j, v1, "the first deploy", 90*time.Second, succeeded)
	leader, standby := e.leaderAndStandby(a, b)

	v2 := e.push(shopFiles(e.appNS, "1.1.0", steps))
	select {
	case <-check.first:
	case <-time.After(60 * time.Second):
		r, _ := j.Current(shop, "production")
		t.Fatalf("the leader did not run the canary's check within 60s; %v", r)
	}
	if err := leader.proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	agentproc.Poll(t, 3*leaseDuration, "the standby takes the leader Lease", func() (bool, string) {
		id := e.leader()
		return id == standby.id, "holder " + id
	})
	agentproc.Poll(t, 30*time.Second, "the standby claims the application", func() (bool, string) {
		w := e.writerOf(shop)
		return w == standby.id, "writer " + w
	})
	before := waitRollout(t, j, v2, "the standby finishes the rollout", 60*time.Second, succeeded)
	t.Logf("leader %s stopped; the standby finished the rollout %s later", leader.id, time.Since(stopped).Round(time.Millisecond))

	// The stale leader's pending check is answered (a failure) before it
	// runs again, so that its first act is to journal that outcome.
	check.Release()
	if err := leader.proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-leader.proc.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("the former leader still runs 30s after SIGCONT; its goroutines:\n%s", leader.proc.Stacks(10*time.Second))
	}
	t.Logf("the former leader exited: %v", leader.proc.Err())
	if code := leader.proc.ExitCode(); code <= 0 {
		t.Errorf("the former leader exited with %d (%v) after losing its lease; want a non-zero exit status so that its pod restarts as a standby", code, leader.proc.Err())
	}
	if !strings.Contains(leader.proc.Log(), `"msg":"agent stopped"`) {
		t.Errorf("the former leader did not stop in order (no \"agent stopped\" in its log)")
	}
	if !strings.Contains(leader.proc.Log(), fencedText) {
		t.Errorf("the former leader did not log its refused journal write (%q)", fencedText)
	}
	if got := e.logsMention(fencedText); len(got) != 1 {
		t.Errorf("fenced writes logged by %v, want only the former leader %s", got, leader.id)
	}

	after, err := j.Current(shop, "production")
	if err != nil {
		t.Fatal(err)
	}
	if after.ID != before.ID || after.State != reconcile.RolloutSucceeded || len(after.Outcomes) != len(before.Outcomes) || after.RollingBack {
		t.Errorf("the journal changed after the takeover:\nbefore %s\nafter  %s", describeRollout(before), describeRollout(after))
	}
	eachStepOnce(t, after)
	for _, o := range after.Outcomes {
		for _, m := range o.Measurements {
			if !m.Passed {
				t.Errorf("the stale leader's failed measurement is in the journal: %+v", m)
			}
		}
	}
	if w := e.writerOf(shop); w != standby.id {
		t.Errorf("writer %q after the former leader continued, want %s", w, standby.id)
	}
	if id := e.leader(); id != standby.id || !standby.proc.Running() {
		t.Errorf("leader %q, standby running %v; want %s leading", id, standby.proc.Running(), standby.id)
	}
	e.checkStatuses(t, v2, "jibe/shop/production")
}
