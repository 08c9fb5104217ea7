package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

// haViewClient bounds every read of these tests: a replica that hangs
// fails them instead of hanging them.
var haViewClient = &http.Client{Timeout: 30 * time.Second}

// getJSON decodes GET path on a into v.
func (a *haAgent) getJSON(path string, v any) error {
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.addr+path, nil)
	req.Header.Set("Authorization", "Bearer ha-test-write-token")
	resp, err := haViewClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// production returns shop's production environment as a's API shows
// it, alone and in the list, with the whole view.
func (a *haAgent) production() (agent.AppView, agent.EnvView, error) {
	var v agent.AppView
	if err := a.getJSON("/api/v1/applications/shop/shop", &v); err != nil {
		return v, agent.EnvView{}, err
	}
	for _, e := range v.Environments {
		if e.Name == "production" {
			return v, e, nil
		}
	}
	return v, agent.EnvView{}, fmt.Errorf("%s shows no production environment: %+v", a.id, v)
}

// haShopRelease is shop's spec and manifest at image: a canary whose
// pause lasts 30 days, so that the tests find it paused.
func haShopRelease(t *testing.T, dir, ns, image string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "apps", "shop", "k8s", "app.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "${artifacts.web}"}]
`)
	writeFile(t, filepath.Join(dir, "apps", "shop", "jibe.yaml"), `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  artifacts: {web: {image: "`+image+`"}}
  targets: [{name: web, kubernetes: {manifests: k8s}}]
  environments:
    - name: production
      kubernetes: {cluster: test, namespace: `+ns+`}
      strategy: {canary: {steps: [{setWeight: 50}, {pause: {duration: 720h}}]}}
`)
}

// pausedOnTwoReplicas starts two sharding replicas with the lease
// settings lease (as in haAgentConfig), deploys shop, then pauses its
// canary, and returns the replica that owns shop, the other one, and
// the owner's view of production once it knows what the pause waits for
// and the instances it observed.
func pausedOnTwoReplicas(t *testing.T, lease string) (owner, other *haAgent, want agent.EnvView) {
	t.Helper()
	c := kube.Shared(t)
	ns, target := c.NewNamespace(t), c.NewNamespace(t)
	dir := t.TempDir()
	t.Setenv("JIBE_TEST_HA_TOKEN", "ha-test-write-token")
	t.Setenv("JIBE_TEST_HA_HOOK", "ha-test-webhook-secret")
	haShopRelease(t, dir, target, "registry.example.com/shop/web:1.0.0")
	start := func(id string) *haAgent {
		return startHAAgent(t, c, dir, ns, id, "leaseDuration: 2s, renewDeadline: 1s", lease)
	}
	agents := []*haAgent{start("agent-a"), start("agent-b")}
	eventually(t, "shop deployed, owned by one replica", agents, func() error {
		owner, other = nil, nil
		for _, a := range agents {
			switch a.metric("jibe_ha_owned_applications") {
			case "1":
				owner = a
			case "0":
				other = a
			}
		}
		if owner == nil || other == nil {
			return fmt.Errorf("no replica owns shop alone yet")
		}
		_, e, err := owner.production()
		if err != nil || e.State != "succeeded" {
			return fmt.Errorf("production %+v %v", e, err)
		}
		return nil
	})
	haShopRelease(t, dir, target, "registry.example.com/shop/web:1.1.0")
	eventually(t, "the canary paused, its wait and instances known to its owner", agents, func() error {
		_, e, err := owner.production()
		switch {
		case err != nil:
			return err
		case e.Step != "pause" || !strings.HasPrefix(e.Waiting, "pausing"):
			return fmt.Errorf("production at step %q waiting %q", e.Step, e.Waiting)
		case len(e.Targets) != 1 || e.Targets[0].Instances == nil:
			return fmt.Errorf("production's targets %+v: no instances observed", e.Targets)
		}
		want = e
		return nil
	})
	return owner, other, want
}

// Under sharding, the replica that does not own an application shows
// what its owner knows live: what the paused canary waits for and the
// instances it observed, in the application's view, in the list and in
// the rollout's view; its live stream carries the owner's events.
func TestAnyReplicaShowsTheOwnersLiveView(t *testing.T) {
	owner, other, want := pausedOnTwoReplicas(t, "leaseDuration: 2s, renewDeadline: 1s")
	agents := []*haAgent{owner, other}

	eventually(t, "the other replica shows the owner's wait and instances", agents, func() error {
		v, e, err := other.production()
		switch {
		case err != nil:
			return err
		case v.LiveMissing != "":
			return fmt.Errorf("%s says live fields miss: %s", other.id, v.LiveMissing)
		case e.Waiting != want.Waiting:
			return fmt.Errorf("%s shows production waiting %q, its owner %q", other.id, e.Waiting, want.Waiting)
		case !reflect.DeepEqual(e.Targets, want.Targets):
			return fmt.Errorf("%s shows production's targets %+v, its owner %+v", other.id, e.Targets, want.Targets)
		}
		var list []agent.AppView
		if err := other.getJSON("/api/v1/applications", &list); err != nil {
			return err
		}
		if len(list) != 1 || len(list[0].Environments) != 1 || list[0].Environments[0].Waiting != want.Waiting ||
			!reflect.DeepEqual(list[0].Environments[0].Targets, want.Targets) {
			return fmt.Errorf("%s's list shows %+v", other.id, list)
		}
		var r agent.RolloutView
		if err := other.getJSON("/api/v1/applications/shop/shop/environments/production/rollout", &r); err != nil {
			return err
		}
		if r.Waiting == nil || r.Waiting.Message != want.Waiting {
			return fmt.Errorf("%s's rollout view waits for %+v, want %q", other.id, r.Waiting, want.Waiting)
		}
		var ownerSources, otherSources []agent.SourceView
		if err := owner.getJSON("/api/v1/sources", &ownerSources); err != nil {
			return err
		}
		if err := other.getJSON("/api/v1/sources", &otherSources); err != nil {
			return err
		}
		if len(otherSources) != 1 || len(ownerSources) != 1 || otherSources[0].Applications != 1 ||
			!reflect.DeepEqual(otherSources[0].Drift, ownerSources[0].Drift) {
			return fmt.Errorf("%s's sources %+v, its owner's %+v", other.id, otherSources, ownerSources)
		}
		if _, page := other.get("/apps/shop/shop"); !strings.Contains(page, `id="waiting">`+want.Waiting) {
			return fmt.Errorf("%s's dashboard page of shop does not say it waits for %q:\n%s", other.id, want.Waiting, page)
		}
		return nil
	})

	// The owner's refusal of a read (no such rollout) is passed on, and
	// does not make the owner look down.
	if code, body := other.get("/api/v1/applications/shop/shop/environments/staging/rollout"); code != http.StatusNotFound || !strings.Contains(body, "no such rollout") {
		t.Errorf("%s: a rollout of an unknown environment: %d %s, want the owner's 404", other.id, code, body)
	}
	if v, _, err := other.production(); err != nil || v.LiveMissing != "" {
		t.Errorf("%s after the owner's 404: liveMissing %q, %v", other.id, v.LiveMissing, err)
	}

	// The other replica's stream follows the owner's: an action posted
	// to it (forwarded to the owner, which journals and announces it)
	// comes back on it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+other.addr+"/api/v1/events?app=shop/shop", nil)
	req.Header.Set("Authorization", "Bearer ha-test-write-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	next := func(what string) string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("%s's stream ended, waiting for %s", other.id, what)
			}
			return l
		case <-time.After(90 * time.Second):
			t.Fatalf("%s's stream: no %s within 90s", other.id, what)
		}
		return ""
	}
	for l := ""; !strings.HasPrefix(l, ": following the events of http://"+owner.addr); {
		l = next("mark of following " + owner.id)
	}
	if code, body := other.post("/api/v1/applications/shop/shop/refresh"); code != http.StatusOK {
		t.Fatalf("refresh through %s: %d %s", other.id, code, body)
	}
	for {
		data, ok := strings.CutPrefix(next("the refresh's action event"), "data: ")
		if !ok {
			continue
		}
		var e agent.EventView
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			t.Fatalf("%s's stream: %v in %s", other.id, err, data)
		}
		if e.Type == "action" && e.App == "shop/shop" {
			break
		}
	}
}

// post posts an action without a body to a.
func (a *haAgent) post(path string) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.addr+path, strings.NewReader(`{"reason": "test"}`))
	req.Header.Set("Authorization", "Bearer ha-test-write-token")
	resp, err := haViewClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

// When the owner does not answer (stopped, its Lease not expired yet),
// the other replica answers with the journal's view, saying that what
// only the owner knows live is missing and why.
func TestReplicaAnswersWhenTheOwnerIsUnreachable(t *testing.T) {
	// A long lease keeps the stopped owner the owner while the test asks.
	owner, other, _ := pausedOnTwoReplicas(t, "leaseDuration: 60s, renewDeadline: 40s")
	if err := owner.proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.proc.Signal(syscall.SIGCONT) })
	unreachable := "owned by " + owner.id + ", not reachable"

	v, e, err := other.production()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.LiveMissing, unreachable) {
		t.Errorf("%s's view says liveMissing %q, want it to start %q", other.id, v.LiveMissing, unreachable)
	}
	if e.Step != "pause" || e.Rollout == nil || !strings.HasPrefix(e.Waiting, unreachable) || len(e.Targets) != 1 || e.Targets[0].Instances != nil {
		t.Errorf("%s's production: step %q, waiting %q, targets %+v: want the journal's pause, marked, without instances", other.id, e.Step, e.Waiting, e.Targets)
	}
	var list []agent.AppView
	if err := other.getJSON("/api/v1/applications", &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || !strings.HasPrefix(list[0].LiveMissing, unreachable) {
		t.Errorf("%s's list: %+v, want shop marked as lacking live fields", other.id, list)
	}
	var r agent.RolloutView
	if err := other.getJSON("/api/v1/applications/shop/shop/environments/production/rollout", &r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.LiveMissing, unreachable) || r.Waiting == nil || !strings.HasPrefix(r.Waiting.Message, unreachable) {
		t.Errorf("%s's rollout view: liveMissing %q, waiting %+v", other.id, r.LiveMissing, r.Waiting)
	}
	var h agent.HistoryView
	if err := other.getJSON("/api/v1/applications/shop/shop/environments/production/history", &h); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.LiveMissing, unreachable) || len(h.Rollouts) == 0 {
		t.Errorf("%s's history: liveMissing %q, %d rollouts: want the journal's page, marked", other.id, h.LiveMissing, len(h.Rollouts))
	}
	if _, page := other.get("/apps/shop/shop"); !strings.Contains(page, `id="waiting">`+unreachable) {
		t.Errorf("%s's dashboard page of shop does not say its owner is not reachable:\n%s", other.id, page)
	}
}
