package hatest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/agentproc"
	"github.com/jibe-dev/jibe/providers/kubernetes/coord"
	"github.com/jibe-dev/jibe/providers/kubernetes/kubejournal"
	"github.com/jibe-dev/jibe/reconcile"
)

// appName names the i-th cheap application.
func appName(i int) string { return fmt.Sprintf("a%04d", i) }

// cheapApps are n applications of one ConfigMap each, rolled out at once.
func cheapApps(ns string, n int, version string) map[string]string {
	files := make(map[string]string, 2*n)
	for i := range n {
		name := appName(i)
		files[name+"/jibe.yaml"] = `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: ` + name + `}
spec:
  targets: [{name: config, kubernetes: {manifests: .}}]
  environments:
    - name: production
      kubernetes: {cluster: test, namespace: ` + ns + `}
`
		files[name+"/config.yaml"] = `apiVersion: v1
kind: ConfigMap
metadata: {name: ` + name + `}
data: {version: "` + version + `"}
`
	}
	return files
}

// rollouts follows the cheap applications' production rollouts of one
// revision in the journal. A rollout seen succeeded is not read again, so
// that polling a thousand applications costs the test little CPU beside
// the agents it measures.
type rollouts struct {
	j        *reconcile.Journal
	revision string
	done     []bool
}

func newRollouts(j *reconcile.Journal, n int, revision string) *rollouts {
	return &rollouts{j: j, revision: revision, done: make([]bool, n)}
}

// left returns how many applications have no succeeded rollout of the
// revision yet, and what one of them shows.
func (r *rollouts) left() (bool, string) {
	left, example := 0, ""
	for i, done := range r.done {
		if done {
			continue
		}
		app := reconcile.AppID{Source: source, Name: appName(i)}
		ro, err := r.j.Current(app, "production")
		if err == nil && ro != nil && ro.Revision == r.revision && ro.State == reconcile.RolloutSucceeded {
			r.done[i] = true
			continue
		}
		left++
		if example == "" {
			example = fmt.Sprintf("%s: %v", app, err)
			if ro != nil {
				example = app.String() + ": " + describeRollout(ro)
			}
		}
	}
	return left == 0, fmt.Sprintf("%d left, e.g. %s", left, example)
}

// successes counts the contexts whose latest status on sha is success.
func (e *env) successes(sha string) int {
	latest := map[string]githubemu.StatusState{}
	for _, s := range e.gh.Statuses(repository, sha) {
		latest[strings.ToLower(s.Context)] = s.State
	}
	n := 0
	for _, st := range latest {
		if st == githubemu.StatusSuccess {
			n++
		}
	}
	return n
}

// waitMembers waits until every agent's member Lease is live and
// publishes a settled view of exactly these agents, so that ownership no
// longer moves.
func (e *env) waitMembers(agents []*agent) {
	e.t.Helper()
	want := make([]string, 0, len(agents))
	for _, a := range agents {
		want = append(want, a.id)
	}
	slices.Sort(want)
	agentproc.Poll(e.t, time.Minute, "every member settled on the same view", func() (bool, string) {
		leases, err := e.cluster.Clientset().CoordinationV1().Leases(e.stateNS).List(context.Background(),
			metav1.ListOptions{LabelSelector: coord.LabelMembers + "=" + stateName})
		if err != nil {
			return false, err.Error()
		}
		settled, detail := 0, []string{}
		for _, l := range leases.Items {
			view := strings.Split(l.Annotations[coord.AnnotationView], ",")
			slices.Sort(view)
			if leaseLive(&l) && slices.Equal(view, want) {
				settled++
			}
			detail = append(detail, fmt.Sprintf("%s live %v view %v", l.Name, leaseLive(&l), view))
		}
		return settled == len(agents) && len(leases.Items) == len(agents), strings.Join(detail, "; ")
	})
}

// writerLog follows the writer annotation of every journal part through a
// watch, for the whole test.
type writerLog struct {
	mu      sync.Mutex
	history map[string][]writerChange // object name → changes, oldest first
}

type writerChange struct {
	writer string
	at     time.Time
}

func (e *env) watchWriters(t *testing.T) *writerLog {
	t.Helper()
	l := &writerLog{history: map[string][]writerChange{}}
	f := informers.NewSharedInformerFactoryWithOptions(e.cluster.Clientset(), 0, informers.WithNamespace(e.stateNS),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = kubejournal.LabelJournal + "=" + stateName }))
	inf := f.Core().V1().ConfigMaps().Informer()
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { l.see(obj) },
		UpdateFunc: func(_, obj any) { l.see(obj) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	t.Cleanup(func() { cancel(); f.Shutdown() })
	return l
}

func (l *writerLog) see(obj any) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok || cm.Annotations[writerAnnotation] == "" {
		return
	}
	w := cm.Annotations[writerAnnotation]
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.history[cm.Name]
	if len(h) == 0 || h[len(h)-1].writer != w {
		l.history[cm.Name] = append(h, writerChange{writer: w, at: time.Now()})
	}
}

// check fails for a part that changed writer other than once, from the
// killed agent to a live one after the kill: any other change means two
// agents wrote the application.
func (l *writerLog) check(t *testing.T, killed string, at time.Time) (moved int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, h := range l.history {
		switch {
		case len(h) == 1:
		case len(h) == 2 && h[0].writer == killed && h[1].writer != killed && h[1].at.After(at):
			moved++
		default:
			var s []string
			for _, c := range h {
				s = append(s, fmt.Sprintf("%s@%s", c.writer, c.at.Format("15:04:05.000")))
			}
			t.Errorf("part %s changed writers %v (%s killed at %s)", name, s, killed, at.Format("15:04:05.000"))
		}
	}
	return moved
}

// owners counts the journal's parts by writer.
func (e *env) owners() (map[string]int, int, error) {
	parts, err := e.parts()
	if err != nil {
		return nil, 0, err
	}
	out := map[string]int{}
	for _, w := range parts {
		out[w]++
	}
	return out, len(parts), nil
}

// checkOwned checks that the agents' own counts of what they own match
// the journal's writers and add up to n.
func (e *env) checkOwned(t *testing.T, agents []*agent, n int) {
	t.Helper()
	agentproc.Poll(t, 30*time.Second, "every application owned by one agent", func() (bool, string) {
		byWriter, parts, err := e.owners()
		if err != nil {
			return false, err.Error()
		}
		sum, detail := 0, []string{fmt.Sprintf("journal parts %d by writer %v", parts, byWriter)}
		ok := parts == n
		for _, a := range agents {
			v, found := agentproc.Metric(a.addr, "jibe_ha_owned_applications")
			sum += int(v)
			detail = append(detail, fmt.Sprintf("%s owns %v (metric found %v)", a.id, v, found))
			ok = ok && found && int(v) == byWriter[a.id]
		}
		return ok && sum == n, strings.Join(detail, "; ")
	})
}

// Three shards share 300 applications: each is rolled out by exactly one
// agent; one agent killed (SIGKILL), its applications are claimed by the
// other two within the lease duration and a reconcile; a change pushed
// afterwards rolls out everywhere; no application ever has two writers.
func TestShardsKillOne(t *testing.T) {
	const n = 300
	e := newEnv(t, envOptions{Sharding: true, MaxConcurrentRollouts: 8})
	agents := []*agent{e.start("a"), e.start("b"), e.start("c")}
	e.waitReady(agents...)
	e.waitMembers(agents)
	writers := e.watchWriters(t)
	j := e.journal()

	start := time.Now()
	v1 := e.push(cheapApps(e.appNS, n, "1"))
	agentproc.Poll(t, 3*time.Minute, "300 applications rolled out", newRollouts(j, n, v1).left)
	t.Logf("%d applications rolled out over 3 shards in %s", n, time.Since(start).Round(time.Millisecond))
	agentproc.Poll(t, time.Minute, "300 success statuses", func() (bool, string) {
		got := e.successes(v1)
		return got == n, fmt.Sprintf("%d successes", got)
	})
	e.checkOwned(t, agents, n)
	byWriter, _, _ := e.owners()
	for _, a := range agents {
		if byWriter[a.id] == 0 {
			t.Errorf("agent %s owns nothing: %v", a.id, byWriter)
		}
	}

	victim, live := agents[2], agents[:2]
	if err := victim.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-victim.proc.Done()
	agentproc.Poll(t, leaseDuration+30*time.Second, "the killed agent's applications claimed again", func() (bool, string) {
		byWriter, parts, err := e.owners()
		return err == nil && parts == n && byWriter[victim.id] == 0, fmt.Sprintf("%v %v", byWriter, err)
	})
	t.Logf("the %d applications of %s were claimed again %s after the kill", byWriter[victim.id], victim.id, time.Since(killed).Round(time.Millisecond))
	e.checkOwned(t, live, n)

	v2 := e.push(cheapApps(e.appNS, n, "2"))
	agentproc.Poll(t, 3*time.Minute, "the change rolled out everywhere", newRollouts(j, n, v2).left)
	agentproc.Poll(t, time.Minute, "300 success statuses of the change", func() (bool, string) {
		got := e.successes(v2)
		return got == n, fmt.Sprintf("%d successes", got)
	})
	e.checkConfigMaps(t, n, "2")

	if moved := writers.check(t, victim.id, killed); moved != byWriter[victim.id] {
		t.Errorf("%d parts moved from %s, want its %d", moved, victim.id, byWriter[victim.id])
	}
	if got := e.logsMention(fencedText); len(got) > 0 {
		t.Errorf("fenced writes logged by %v", got)
	}
}

// checkConfigMaps checks that each cheap application's ConfigMap holds
// version.
func (e *env) checkConfigMaps(t *testing.T, n int, version string) {
	t.Helper()
	list, err := e.cluster.Clientset().CoreV1().ConfigMaps(e.appNS).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, cm := range list.Items {
		have[cm.Name] = cm.Data["version"]
	}
	var wrong []string
	for i := range n {
		if v := have[appName(i)]; v != version {
			wrong = append(wrong, appName(i)+"="+v)
		}
	}
	sort.Strings(wrong)
	if len(wrong) > 0 {
		t.Errorf("%d ConfigMaps not at version %s: %v", len(wrong), version, wrong)
	}
}
