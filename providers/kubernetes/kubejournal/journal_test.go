package kubejournal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jibe-dev/jibe/reconcile"
)

var (
	shopWeb = reconcile.AppID{Source: "shop", Name: "web"}
	plan    = reconcile.EnvPlan{Name: "production", Steps: []reconcile.Step{
		{Kind: reconcile.StepApply, Target: "web"}, {Kind: reconcile.StepPause, Target: "web"}, {Kind: reconcile.StepApply, Target: "web"},
	}}
)

// A rollout started by agent A and claimed by agent B is resumed by B from
// the last step A recorded: B records the next step, A can no longer.
func TestJournalTakeoverResumesFromTheLastStep(t *testing.T) {
	e := newEnv(t)
	a := reconcile.NewJournal(e.open("agent-a", nil, Options{}), reconcile.JournalOptions{})
	b := reconcile.NewJournal(e.open("agent-b", nil, Options{}), reconcile.JournalOptions{})
	if err := a.Claim(shopWeb); err != nil {
		t.Fatal(err)
	}
	r, err := a.Start(shopWeb, "abc1234", plan)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Record(r.ID, reconcile.StepOutcome{Step: 0, Kind: reconcile.StepApply}); err != nil {
		t.Fatal(err)
	}
	if err := b.Claim(shopWeb); err != nil {
		t.Fatal(err)
	}
	running, err := b.Running()
	if err != nil || len(running) != 1 || running[0].ID != r.ID || running[0].Next != 1 {
		t.Fatalf("B's running rollouts = %+v, %v; want %s at step 1", running, err, r.ID)
	}
	if _, err := a.Record(r.ID, reconcile.StepOutcome{Step: 1, Kind: reconcile.StepPause}); !errors.Is(err, reconcile.ErrFenced) {
		t.Errorf("A's record after B's claim = %v, want ErrFenced", err)
	}
	got, err := b.Record(r.ID, reconcile.StepOutcome{Step: 1, Kind: reconcile.StepPause})
	if err != nil || got.Next != 2 || len(got.Outcomes) != 2 {
		t.Fatalf("B's record = %+v, %v", got, err)
	}
	if cur, err := a.Current(shopWeb, "production"); err != nil || cur.Next != 2 && cur.Next != 1 {
		t.Errorf("A reads %+v, %v", cur, err)
	}
}

// A part with many hundreds of rollouts keeps every object under the
// API server's 1 MiB limit: finished rollouts that no current or stable
// record names move to objects of their own, which every reader reads
// back. kubectl finds the part's object by its labels and reads a
// rollout by its data key. (A budget of 64 KiB rather than 256 keeps the
// test's writes small.)
func TestLongHistorySpillsToObjectsOfItsOwn(t *testing.T) {
	e := newEnv(t)
	store := e.open("agent-a", nil, Options{PartBudget: 64 << 10})
	j := reconcile.NewJournal(store, reconcile.JournalOptions{})
	if err := j.Claim(shopWeb); err != nil {
		t.Fatal(err)
	}
	big := plan
	big.Steps = append([]reconcile.Step(nil), plan.Steps...)
	for i := range 45 {
		big.Steps = append(big.Steps, reconcile.Step{Kind: reconcile.StepApply, Target: fmt.Sprintf("target-with-a-long-name-%03d", i)})
	}
	const n = 400
	for i := range n {
		r, err := j.Start(shopWeb, fmt.Sprintf("%040x", i), big)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Finish(r.ID, reconcile.RolloutSucceeded, ""); err != nil {
			t.Fatalf("rollout %d: %v", i, err)
		}
	}
	list := e.list(t)
	total, spills := 0, 0
	for _, cm := range list {
		size := 0
		for k, v := range cm.Data {
			size += len(k) + len(v)
		}
		if size > 1<<20 {
			t.Errorf("object %s holds %d bytes", cm.Name, size)
		}
		if cm.Labels[LabelSpill] == "true" {
			spills++
		}
		total += size
		if cm.Labels[LabelPart] != hash8("shop/web") {
			t.Errorf("object %s is labelled %v", cm.Name, cm.Labels)
		}
	}
	if spills == 0 || total < 1<<20 {
		t.Errorf("%d objects, %d of spilled records, %d bytes in all: want more than 1 MiB, spilled", len(list), spills, total)
	}
	main := e.get(t, objectName("jibe", "shop/web"))
	if main.Labels[LabelSource] != "shop" || main.Labels[LabelApp] != "web" ||
		!strings.HasPrefix(main.Name, "jibe-journal-shop-web-") {
		t.Errorf("part object %s labelled %v", main.Name, main.Labels)
	}
	last := fmt.Sprintf("%040x", n-1)
	if _, ok := main.Data["rollouts.production."+last]; !ok || main.Data["current.production"] != "shop/web/production/"+last {
		t.Errorf("the current rollout is not in the part's object: keys %d", len(main.Data))
	}
	if size := len(main.String()); size > 64<<10+16<<10 {
		t.Errorf("the part's object holds %d bytes, over its budget", size)
	}
	reader := reconcile.NewJournal(e.open("reader", nil, Options{}), reconcile.JournalOptions{})
	for _, jj := range []*reconcile.Journal{j, reader} {
		if h, err := jj.History(shopWeb, "production"); err != nil || len(h) != n {
			t.Errorf("history holds %d rollouts, %v; want %d", len(h), err, n)
		}
		if r, err := jj.Get(reconcile.RolloutID(shopWeb, "production", fmt.Sprintf("%040x", 0))); err != nil || r.State != reconcile.RolloutSucceeded {
			t.Errorf("the first rollout = %+v, %v", r, err)
		}
	}
}

// Reads are served from the informer's copy: once the store is open, no
// read sends a request to the API server.
func TestReadsSendNoRequests(t *testing.T) {
	e := newEnv(t)
	var requests atomic.Int64
	j := reconcile.NewJournal(e.open("agent-a", &requests, Options{}), reconcile.JournalOptions{})
	if err := j.Claim(shopWeb); err != nil {
		t.Fatal(err)
	}
	r, err := j.Start(shopWeb, "abc1234", plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.SetHold(reconcile.PauseKey(reconcile.AppID{Source: "shop"}), reconcile.Hold{Kind: reconcile.HoldPause}); err != nil {
		t.Fatal(err)
	}
	before := requests.Load()
	for range 50 {
		if _, err := j.Get(r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Current(shopWeb, "production"); err != nil {
			t.Fatal(err)
		}
		if rs, err := j.Running(); err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		if _, err := j.History(shopWeb, "production"); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Actions(shopWeb, "production"); err != nil {
			t.Fatal(err)
		}
		if h, err := j.Hold(reconcile.PauseKey(reconcile.AppID{Source: "shop"})); err != nil || h == nil {
			t.Fatal(h, err)
		}
		if _, err := j.Deployed(shopWeb); err != nil {
			t.Fatal(err)
		}
	}
	if n := requests.Load() - before; n != 0 {
		t.Errorf("reads sent %d requests to the API server", n)
	}
}

// list returns the journal's objects in the test's namespace.
func (e *env) list(t *testing.T) []corev1.ConfigMap {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	l, err := e.c.Clientset().CoreV1().ConfigMaps(e.ns).List(ctx, metav1.ListOptions{LabelSelector: LabelJournal + "=jibe"})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// get returns the object named name in the test's namespace.
func (e *env) get(t *testing.T, name string) *corev1.ConfigMap {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cm, err := e.c.Clientset().CoreV1().ConfigMaps(e.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm
}
