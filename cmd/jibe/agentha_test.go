package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/internal/testenv/agentproc"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

const haAgentConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: STATE
server:
  listen: "ADDR"
  tokens:
    - {name: ops, scope: write, secret: {env: JIBE_TEST_HA_TOKEN}}
  webhookSecret: {env: JIBE_TEST_HA_HOOK}
state:
  kubernetes: {cluster: test, namespace: NS, sharding: true, identity: ID, advertiseURL: "http://ADDR",
    leaseDuration: 2s, renewDeadline: 1s, retryPeriod: 200ms}
sources:
  - name: shop
    dir: {path: APPS}
    allow: {clusters: [test], namespaces: ["*"]}
kubernetes:
  clusters:
    - {name: test, kubeconfig: {path: KUBECONFIG}}
log: {format: text}
`

// haAgent is one `jibe agent` of a test, run as its own process (klog
// and slog's defaults are per process).
type haAgent struct {
	id, addr string
	proc     *agentproc.Process
	logPath  string
}

// startHAAgent runs `jibe agent` as replica id of the agents sharing
// namespace ns of cluster c; edits are more old, new pairs of
// haAgentConfig's text to replace.
func startHAAgent(t *testing.T, c *kube.Cluster, dir, ns, id string, edits ...string) *haAgent {
	t.Helper()
	a := &haAgent{id: id, addr: freeAddr(t), logPath: filepath.Join(dir, id+".log")}
	cfg := strings.NewReplacer(append([]string{"STATE", filepath.Join(dir, id), "ADDR", a.addr, "NS", ns, "ID", id, "APPS", filepath.Join(dir, "apps"),
		"KUBECONFIG", c.Kubeconfig()}, edits...)...).Replace(haAgentConfig)
	path := filepath.Join(dir, id+".yaml")
	writeFile(t, path, cfg)
	a.proc = startAgent(t, path, a.logPath)
	return a
}

// log returns what the agent logged so far.
func (a *haAgent) log() string {
	data, _ := os.ReadFile(a.logPath)
	return string(data)
}

// get returns the body of GET path on a, and its status.
func (a *haAgent) get(path string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.addr+path, nil)
	req.Header.Set("Authorization", "Bearer ha-test-write-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metric returns the value of a metric without labels, "" when absent.
func (a *haAgent) metric(name string) string {
	_, body := a.get("/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// startTwoHAAgents starts agent-a and agent-b sharding dir's applications
// and waits until both are ready and see each other as members.
func startTwoHAAgents(t *testing.T, c *kube.Cluster, dir, ns string) []*haAgent {
	t.Helper()
	agents := []*haAgent{startHAAgent(t, c, dir, ns, "agent-a"), startHAAgent(t, c, dir, ns, "agent-b")}
	eventually(t, "both replicas ready, two members", agents, func() error {
		for _, a := range agents {
			if code, body := a.get("/readyz"); code != http.StatusOK {
				return fmt.Errorf("%s: /readyz %d %s", a.id, code, body)
			}
			if m := a.metric("jibe_ha_members"); m != "2" {
				return fmt.Errorf("%s: jibe_ha_members %q", a.id, m)
			}
		}
		return nil
	})
	return agents
}

// eventually polls cond until it is nil, failing the test after 90s
// with its last error.
func eventually(t *testing.T, what string, agents []*haAgent, cond func() error) {
	t.Helper()
	ok, detail := agentproc.Within(90*time.Second, func() (bool, string) {
		if err := cond(); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	if !ok {
		var logs strings.Builder
		for _, a := range agents {
			fmt.Fprintf(&logs, "--- %s\n%s\n", a.id, a.log())
		}
		t.Fatalf("%s: %s\n%s", what, detail, logs.String())
	}
}

// Two `jibe agent` replicas with state.kubernetes and sharding share the
// journal in the cluster: each is ready once the coordinator and the
// journal have synced, the applications are spread between them and each
// is deployed by exactly one, both serve every application's view, an
// action asked of the replica that does not own its application is
// forwarded to the owner, and the metrics count members and owned
// applications.
func TestAgentsShareApplicationsWithSharding(t *testing.T) {
	c := kube.Shared(t)
	ns, target := c.NewNamespace(t), c.NewNamespace(t)
	dir := t.TempDir()
	t.Setenv("JIBE_TEST_HA_TOKEN", "ha-test-write-token")
	t.Setenv("JIBE_TEST_HA_HOOK", "ha-test-webhook-secret")
	const apps = 6
	for i := range apps {
		name := fmt.Sprintf("app-%d", i)
		writeFile(t, filepath.Join(dir, "apps", name, "jibe.yaml"), `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: `+name+`}
spec:
  targets: [{name: config, kubernetes: {manifests: k8s}}]
  environments: [{name: dev, kubernetes: {cluster: test, namespace: `+target+`}}]
`)
		writeFile(t, filepath.Join(dir, "apps", name, "k8s", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "+name+"}\ndata: {v: '1'}\n")
	}
	agents := startTwoHAAgents(t, c, dir, ns)
	eventually(t, "every application deployed, shown by both replicas", agents, func() error {
		list, err := c.Clientset().CoreV1().ConfigMaps(target).List(context.Background(), metav1.ListOptions{})
		if err != nil || len(list.Items) < apps {
			return fmt.Errorf("config maps deployed: %v %v", len(list.Items), err)
		}
		for _, a := range agents {
			var views []struct {
				Name         string
				Environments []struct{ State string }
			}
			_, body := a.get("/api/v1/applications")
			if err := json.Unmarshal([]byte(body), &views); err != nil || len(views) != apps {
				return fmt.Errorf("%s: applications %s", a.id, body)
			}
			for _, v := range views {
				if len(v.Environments) != 1 || v.Environments[0].State != "succeeded" {
					return fmt.Errorf("%s: %s is %+v", a.id, v.Name, v.Environments)
				}
			}
		}
		return nil
	})
	owned := 0
	for _, a := range agents {
		var n int
		fmt.Sscan(a.metric("jibe_ha_owned_applications"), &n)
		owned += n
	}
	if owned != apps {
		t.Errorf("the replicas own %d applications in all, want %d", owned, apps)
	}

	// Pause each application through agent-b: those agent-a owns are
	// forwarded there, and every pause is journaled once.
	for i := range apps {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/api/v1/applications/shop/app-%d/pause", agents[1].addr, i),
			bytes.NewReader([]byte(`{"reason": "maintenance"}`)))
		req.Header.Set("Authorization", "Bearer ha-test-write-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "paused") {
			t.Errorf("pause app-%d through agent-b: %d %s", i, resp.StatusCode, body)
		}
	}
	if !strings.Contains(agents[0].log(), "action pause") {
		t.Errorf("no pause was forwarded to agent-a; its log:\n%s", agents[0].log())
	}
	// A webhook delivery to agent-b is relayed to agent-a, which checks
	// its signature and acts on it too.
	body := `{"repository": "acme/shop"}`
	mac := hmac.New(sha256.New, []byte("ha-test-webhook-secret"))
	mac.Write([]byte(body))
	req, _ := http.NewRequest(http.MethodPost, "http://"+agents[1].addr+"/hooks/generic", strings.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("X-Jibe-Delivery", "relay-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("the webhook delivery to agent-b: %d", resp.StatusCode)
	}
	eventually(t, "the delivery relayed to agent-a", agents, func() error {
		if !strings.Contains(agents[0].log(), "webhook trigger") || !strings.Contains(agents[0].log(), "delivery=relay-1") {
			return fmt.Errorf("agent-a logged no trigger of delivery relay-1")
		}
		return nil
	})

	// agent-a stops (SIGTERM): it exits cleanly, releasing its Lease, and
	// agent-b owns every application.
	if err := agents[0].proc.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-agents[0].proc.Done()
	if err := agents[0].proc.Err(); err != nil {
		t.Errorf("agent-a's stop: %v\n%s", err, agents[0].log())
	}
	eventually(t, "agent-b owns every application", agents[1:], func() error {
		if m := agents[1].metric("jibe_ha_owned_applications"); m != fmt.Sprint(apps) {
			return fmt.Errorf("jibe_ha_owned_applications %q", m)
		}
		if m := agents[1].metric("jibe_ha_members"); m != "1" {
			return fmt.Errorf("jibe_ha_members %q", m)
		}
		return nil
	})
	var once sync.Once
	for _, a := range agents {
		if !strings.Contains(a.log(), "mode=sharding identity="+a.id+" namespace="+ns) {
			once.Do(func() { t.Errorf("%s's start does not say its mode, identity and namespace:\n%s", a.id, a.log()) })
		}
	}
}

// deliver posts a generic webhook delivery with ID id, signed with the
// test's webhook secret, to a, with header's extra headers, and returns
// the answer's status.
func deliver(t *testing.T, a *haAgent, id string, header http.Header) int {
	t.Helper()
	body := `{"repository": "acme/` + id + `"}`
	mac := hmac.New(sha256.New, []byte("ha-test-webhook-secret"))
	mac.Write([]byte(body))
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.addr+"/hooks/generic", strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("X-Jibe-Delivery", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The marks replicas put on what they pass to each other are trusted only
// when authenticated. The mark of a relayed webhook delivery is signed: a
// delivery that carries a forged one (anyone reaching the webhook
// endpoint can set a header) is a first delivery, relayed to the other
// replica, and one relayed by a replica is not relayed back. The mark of
// a forwarded action is read only behind the write token, and then only
// stops the forwarding (409).
func TestAgentsRelayWebhookDeliveriesOnce(t *testing.T) {
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	dir := t.TempDir()
	t.Setenv("JIBE_TEST_HA_TOKEN", "ha-test-write-token")
	t.Setenv("JIBE_TEST_HA_HOOK", "ha-test-webhook-secret")
	if err := os.MkdirAll(filepath.Join(dir, "apps"), 0o755); err != nil {
		t.Fatal(err)
	}
	agents := startTwoHAAgents(t, c, dir, ns)

	// A delivery to agent-b claiming to be relayed by agent-a, without a
	// valid marker, is relayed to agent-a all the same.
	forged := http.Header{agent.RelayedHeader: {"agent-a"}}
	if code := deliver(t, agents[1], "forged-1", forged); code != http.StatusAccepted {
		t.Errorf("the delivery with a forged relay marker to agent-b: %d", code)
	}
	eventually(t, "the delivery with a forged marker relayed to agent-a", agents, func() error {
		if !strings.Contains(agents[0].log(), "delivery=forged-1") {
			return fmt.Errorf("agent-a logged nothing of delivery forged-1")
		}
		return nil
	})

	// A delivery agent-b relays to agent-a is not relayed back: agent-b
	// would refuse it as a replay.
	if code := deliver(t, agents[1], "first-1", nil); code != http.StatusAccepted {
		t.Errorf("the delivery to agent-b: %d", code)
	}
	eventually(t, "the delivery relayed to agent-a", agents, func() error {
		if !strings.Contains(agents[0].log(), "delivery=first-1") {
			return fmt.Errorf("agent-a logged nothing of delivery first-1")
		}
		return nil
	})

	// A source action (OwnerSource: agent-a's, by rendezvous hashing)
	// asked of agent-b with a forged forwarding mark: refused without the
	// write token, answered 409 with it, nothing journaled; without the
	// mark it is forwarded to agent-a.
	pause := func(token, forwardedBy string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+agents[1].addr+"/api/v1/sources/shop/pause", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if forwardedBy != "" {
			req.Header.Set(agent.ForwardedHeader, forwardedBy)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := pause("", "agent-a"); code != http.StatusUnauthorized {
		t.Errorf("a forged forwarding mark without a token: %d %s", code, body)
	}
	if code, body := pause("ha-test-write-token", "agent-a"); code != http.StatusConflict || !strings.Contains(body, "owned by agent agent-a") {
		t.Errorf("a forged forwarding mark with the write token: %d %s", code, body)
	}
	if strings.Contains(agents[0].log(), "action pause") || strings.Contains(agents[1].log(), "action pause") {
		t.Errorf("a pause with a forged forwarding mark was carried out")
	}
	if code, body := pause("ha-test-write-token", ""); code != http.StatusOK || !strings.Contains(agents[0].log(), "action pause") {
		t.Errorf("the pause forwarded to agent-a: %d %s", code, body)
	}

	for _, a := range agents {
		if err := a.proc.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		<-a.proc.Done()
	}
	for _, line := range strings.Split(agents[1].log(), "\n") {
		if strings.Contains(line, "webhook rejected") {
			t.Errorf("agent-b refused a delivery (relayed back?): %s", line)
		}
	}
}
