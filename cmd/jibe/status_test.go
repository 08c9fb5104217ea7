package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

// statusToken is the read token of statusAgent's configuration.
const statusToken = "status-test-read-token"

// statusAgent is `jibe agent` running in this process, on the test
// cluster, with two folder sources (a folder's revision covers all of
// it: an application in each rolls out on its own changes only), "shop"
// with checkout and "web" with search. Each application has staging and
// production in namespaces of their own.
type statusAgent struct {
	t          *testing.T
	dir, addr  string
	namespaces map[string][2]string
	cancel     context.CancelFunc
	done       chan int
	log        *syncBuffer
}

// statusSources are the sources of statusAgent's applications.
var statusSources = map[string]string{"checkout": "shop", "search": "web"}

// newStatusAgent configures and starts the agent with namespaces for
// apps; the commands under test read with its token (JIBE_TOKEN).
func newStatusAgent(t *testing.T, apps ...string) *statusAgent {
	t.Helper()
	c := kube.Shared(t)
	a := &statusAgent{t: t, dir: t.TempDir(), addr: freeAddr(t), namespaces: map[string][2]string{}}
	// Namespaces are made before the agent starts: it routes client-go's
	// logs (klog's globals) as it does.
	for _, app := range apps {
		a.namespaces[app] = [2]string{c.NewNamespace(t), c.NewNamespace(t)}
	}
	t.Setenv("JIBE_TEST_STATUS_TOKEN", statusToken)
	t.Setenv(envToken, statusToken)
	t.Setenv(envServer, "http://"+a.addr)
	t.Setenv("NO_COLOR", "")
	t.Setenv("COLUMNS", "200")
	writeFile(t, filepath.Join(a.dir, "agent.yaml"), fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: state
server:
  listen: %q
  tokens: [{name: cli, scope: read, secret: {env: JIBE_TEST_STATUS_TOKEN}}]
sources:
  - {name: shop, dir: {path: shop}, allow: {clusters: [test], namespaces: ["*"]}}
  - {name: web, dir: {path: web}, allow: {clusters: [test], namespaces: ["*"]}}
kubernetes:
  clusters: [{name: test, kubeconfig: {path: %q}}]
log: {format: text}
`, a.addr, c.Kubeconfig()))
	a.start()
	t.Cleanup(a.stop)
	return a
}

// start runs the agent until stop.
func (a *statusAgent) start() {
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel, a.done, a.log = cancel, make(chan int, 1), &syncBuffer{}
	go func() {
		a.done <- run(ctx, []string{"agent", "--config", filepath.Join(a.dir, "agent.yaml")}, io.Discard, a.log)
	}()
}

// stop stops the agent and waits until it has.
func (a *statusAgent) stop() {
	if a.cancel == nil {
		return
	}
	a.cancel()
	if code := <-a.done; code != exitOK {
		a.t.Errorf("the agent exited with %d:\n%s", code, a.log.String())
	}
	a.cancel = nil
}

// write puts app at image in the source, production's strategy given:
// each file is renamed into place whole, so the source never reads half
// of one.
func (a *statusAgent) write(app, image, strategy string) {
	ns := a.namespaces[app]
	for name, content := range map[string]string{
		"k8s/app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "${artifacts.web}"}]}
`,
		"jibe.yaml": strings.NewReplacer("APP", app, "IMAGE", image, "STAGING", ns[0], "PRODUCTION", ns[1], "STRATEGY", strategy).Replace(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: APP}
spec:
  artifacts:
    web: {image: IMAGE}
  targets: [{name: web, kubernetes: {manifests: k8s}}]
  environments:
    - {name: staging, kubernetes: {cluster: test, namespace: STAGING}}
    - {name: production, kubernetes: {cluster: test, namespace: PRODUCTION}, strategy: STRATEGY}
`),
	} {
		tmp := filepath.Join(a.t.TempDir(), "file")
		writeFile(a.t, tmp, content)
		path := filepath.Join(a.dir, statusSources[app], app, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			a.t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			a.t.Fatal(err)
		}
	}
}

// apps reads the applications from the API; nil while the agent does
// not answer.
func (a *statusAgent) apps() []agent.AppView {
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.addr+"/api/v1/applications", nil)
	req.Header.Set("Authorization", "Bearer "+statusToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var apps []agent.AppView
	json.NewDecoder(resp.Body).Decode(&apps)
	return apps
}

// env finds app's environment in apps.
func env(apps []agent.AppView, app, name string) (agent.EnvView, bool) {
	for _, a := range apps {
		if a.Name != app {
			continue
		}
		for _, e := range a.Environments {
			if e.Name == name {
				return e, true
			}
		}
	}
	return agent.EnvView{}, false
}

// settle polls the API until done holds of the applications.
func (a *statusAgent) settle(what string, done func(apps []agent.AppView) bool) {
	a.t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		apps := a.apps()
		if done(apps) {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%s: not within 120s; applications %+v\n%s", what, apps, a.log.String())
		}
		select {
		case code := <-a.done:
			a.t.Fatalf("the agent exited with %d:\n%s", code, a.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runsEverywhere reports whether app runs image's revision, the
// application's latest, in staging and production.
func runsEverywhere(apps []agent.AppView, app, version string) bool {
	for _, name := range []string{"staging", "production"} {
		e, ok := env(apps, app, name)
		if !ok || e.State != "succeeded" || e.Running == nil || e.Wanted == nil || e.Revision != e.Wanted.Revision ||
			len(e.Running.Artifacts) != 1 || e.Running.Artifacts[0].Version != version {
			return false
		}
	}
	return true
}

// statusCanary is search's production strategy: half the traffic, then
// a pause of an hour, which the tests find it in.
const statusCanary = "{canary: {steps: [{setWeight: 50}, {pause: {duration: 1h}}]}}"

// newStatusRig brings statusAgent's applications into the states status
// shows: checkout runs 1.4.0 everywhere; search runs 3.0.0 in staging
// and production, where its 3.1.0 is paused at half the traffic.
func newStatusRig(t *testing.T) *statusAgent {
	a := newStatusAgent(t, "checkout", "search")
	a.write("checkout", "registry.example.com/checkout/web:1.4.0", "{rolling: {}}")
	a.write("search", "registry.example.com/search/web:3.0.0", statusCanary)
	a.settle("checkout and search everywhere", func(apps []agent.AppView) bool {
		return runsEverywhere(apps, "checkout", "1.4.0") && runsEverywhere(apps, "search", "3.0.0")
	})
	a.write("search", "registry.example.com/search/web:3.1.0", statusCanary)
	a.settle("search paused in production", func(apps []agent.AppView) bool {
		// The wait's reason arrives with the step's first evaluation,
		// a moment after the step itself; status shows both.
		e, ok := env(apps, "search", "production")
		return ok && e.State == "running" && e.Step == "pause" && strings.HasPrefix(e.Waiting, "pausing")
	})
	return a
}

// jibeCmd runs the command line in this process.
func jibeCmd(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// `jibe status`, `jibe history` and completion against the real agent on
// the test cluster.
func TestStatusCommands(t *testing.T) {
	a := newStatusRig(t)
	ctx := context.Background()

	t.Run("matrix", func(t *testing.T) {
		code, out, errOut := jibeCmd(ctx, "status")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		t.Logf("\n%s", out)
		lines := strings.Split(out, "\n")
		want := [][]string{
			{"APPLICATION", "ENVIRONMENT", "REVISION", "STATE", "INSTANCES", "ARTIFACTS"},
			{"checkout", "staging", "succeeded", "2/2", "web=1.4.0"},
			{"production", "succeeded", "2/2", "web=1.4.0"},
			{"search", "staging", "succeeded", "web=3.1.0"},
			{"production", "→", "running", "web=3.0.0→3.1.0"},
			// Steps done of all, the canary's weight, what it waits for.
			{"[####------] 3/7 50%  pause: pausing, "},
		}
		if len(lines) < len(want) {
			t.Fatalf("%d lines, want %d", len(lines), len(want))
		}
		for i, words := range want {
			for _, w := range words {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d lacks %q: %s", i, w, lines[i])
				}
			}
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("colour on output that is not a terminal:\n%q", out)
		}
	})

	t.Run("fits the width", func(t *testing.T) {
		for _, columns := range []int{80, 60, 30} {
			t.Setenv("COLUMNS", fmt.Sprint(columns))
			for _, args := range [][]string{{"status"}, {"status", "search"}, {"history", "search"}} {
				_, out, _ := jibeCmd(ctx, args...)
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					if n := runeLen(l); n > columns {
						t.Errorf("%s: a line of %d characters in %d columns: %s", args, n, columns, l)
					}
				}
			}
		}
		// Wide output is never cut.
		_, out, _ := jibeCmd(ctx, "status", "-o", "wide")
		if !strings.Contains(out, "UPDATED") || strings.Contains(out, "…") {
			t.Errorf("wide output:\n%s", out)
		}
	})

	t.Run("one application", func(t *testing.T) {
		code, out, errOut := jibeCmd(ctx, "status", "search")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		t.Logf("\n%s", out)
		for _, want := range []string{"web/search  running", "production: rollout of ", "(canary) running",
			"shift-traffic  web     50%", "done", "pause", "1h0m0s", "current", "progress [####------] 3/7 50%", "  waiting: pausing, ", " until "} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		code, out, errOut := jibeCmd(ctx, "status", "-o", "json")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+a.addr+"/api/v1/applications", nil)
		req.Header.Set("Authorization", "Bearer "+statusToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		served, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if out != string(served) {
			t.Errorf("-o json prints\n%s\nthe agent serves\n%s", out, served)
		}
		code, out, _ = jibeCmd(ctx, "status", "web/search", "-o", "json")
		var app agent.AppView
		if err := json.Unmarshal([]byte(out), &app); code != exitOK || err != nil || app.ID != "web/search" {
			t.Errorf("status APP -o json: exit %d, %v:\n%s", code, err, out)
		}
	})

	t.Run("history", func(t *testing.T) {
		code, out, errOut := jibeCmd(ctx, "history", "search", "production")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		t.Logf("\n%s", out)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.Contains(lines[1], "running") || !strings.Contains(lines[1], "canary") ||
			!strings.Contains(lines[2], "succeeded") || !strings.Contains(lines[2], "rolling (canary)") {
			t.Errorf("history of search in production:\n%s", out)
		}
		// Pages of one: --limit reads as many as it needs.
		code, out, _ = jibeCmd(ctx, "history", "search", "--limit", "1", "-o", "json")
		var hs []envHistory
		if err := json.Unmarshal([]byte(out), &hs); code != exitOK || err != nil || len(hs) != 2 ||
			hs[0].Env != "staging" || len(hs[0].Rollouts) != 1 || hs[0].Next == "" {
			t.Errorf("history -o json: exit %d, %v:\n%s", code, err, out)
		}
		code, _, errOut = jibeCmd(ctx, "history", "search", "qa")
		if code != exitUsage || !strings.Contains(errOut, "web/search has no environment qa: it has staging, production") {
			t.Errorf("an unknown environment: exit %d: %s", code, errOut)
		}
	})

	t.Run("completion", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"__complete", "status", ""}, "checkout\nsearch\n:4\n"},
			{[]string{"__complete", "history", "se"}, "search\n:4\n"},
			{[]string{"__complete", "history", "shop/c"}, "shop/checkout\n:4\n"},
			{[]string{"__complete", "history", "search", ""}, "staging\nproduction\n:4\n"},
			{[]string{"__complete", "status", "--server", "http://" + freeAddr(t), ""}, ":4\n"},
		} {
			code, out, _ := jibeCmd(ctx, c.args...)
			if code != exitOK || out != c.want {
				t.Errorf("%s: exit %d, completes %q, want %q", strings.Join(c.args, " "), code, out, c.want)
			}
		}
		for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
			code, out, _ := jibeCmd(ctx, "completion", shell)
			if code != exitOK || !strings.Contains(out, "jibe") {
				t.Errorf("completion %s: exit %d", shell, code)
			}
		}
	})

	t.Run("no token", func(t *testing.T) {
		t.Setenv(envToken, "")
		code, _, errOut := jibeCmd(ctx, "status")
		if code != exitUsage || !strings.Contains(errOut, "the agent answered 401: this endpoint needs a token") ||
			!strings.Contains(errOut, "set JIBE_TOKEN") {
			t.Errorf("exit %d: %s", code, errOut)
		}
		t.Setenv(envToken, "not-a-token")
		code, _, errOut = jibeCmd(ctx, "history", "web/search")
		if code != exitUsage || !strings.Contains(errOut, "the agent answered 401: the token is not one of server.tokens") ||
			strings.Contains(errOut, "not-a-token") {
			t.Errorf("a wrong token: exit %d: %s", code, errOut)
		}
	})

	t.Run("watch", func(t *testing.T) {
		w := startWatch(t, "status", "checkout", "--watch")
		w.waitFor("the first frame", func(frames []string) bool {
			return len(frames) == 1 && strings.Contains(frames[0], "shop/checkout  succeeded")
		})
		a.write("checkout", "registry.example.com/checkout/web:1.5.0", "{canary: {steps: [{setWeight: 50}, {pause: {duration: 2s}}]}}")
		frames := w.waitFor("checkout 1.5.0 everywhere", func(frames []string) bool {
			last := frames[len(frames)-1]
			return strings.Contains(last, "shop/checkout  succeeded") && strings.Count(last, "succeeded  2/2        web=1.5.0") == 2
		})
		var paused bool
		for _, f := range frames {
			paused = paused || (strings.Contains(f, "production: rollout of") && strings.Contains(f, "(canary) running") &&
				strings.Contains(f, "[####------] 3/7 50%  pause: pausing") && strings.Contains(f, "web=1.4.0→1.5.0"))
		}
		if !paused {
			t.Errorf("no frame shows production paused at half the traffic:\n%s", strings.Join(frames, "\n"))
		}
		t.Logf("%d frames:\n%s", len(frames), w.out.String())
		w.stop()
	})

	t.Run("watch reconnects", func(t *testing.T) {
		w := startWatch(t, "status", "--watch")
		w.waitFor("the first frame", func(frames []string) bool { return len(frames) == 1 })
		a.stop()
		lost := "jibe: lost the agent at http://" + a.addr + " (the agent ended the event stream); reconnecting in "
		w.waitForErr(lost)
		a.start()
		w.waitForErr("jibe: reconnected to the agent at http://" + a.addr + "\n")
		w.stop()
		t.Logf("errors:\n%s", w.errOut.String())
	})

	t.Run("unreachable", func(t *testing.T) {
		addr := freeAddr(t)
		code, _, errOut := jibeCmd(ctx, "status", "--server", "http://"+addr)
		want := "jibe: no agent answers at http://" + addr + ": start one (jibe agent --config FILE), or give its address with --server or JIBE_SERVER\n"
		if code != exitUsage || errOut != want {
			t.Errorf("exit %d: %q, want %q", code, errOut, want)
		}
	})
}

// watch is `jibe status --watch` running in this process, its output a
// buffer that is no terminal: one frame per change.
type watch struct {
	t           *testing.T
	out, errOut *syncBuffer
	cancel      context.CancelFunc
	done        chan int
}

func startWatch(t *testing.T, args ...string) *watch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watch{t: t, out: &syncBuffer{}, errOut: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() { w.done <- run(ctx, args, w.out, w.errOut) }()
	t.Cleanup(cancel)
	return w
}

// frames splits the output into its frames, each under its "--- time"
// line.
func (w *watch) frames() []string {
	var frames []string
	for _, f := range strings.Split(w.out.String(), "--- ")[1:] {
		_, frame, _ := strings.Cut(f, "\n")
		frames = append(frames, frame)
	}
	return frames
}

// waitFor polls the frames until done holds of them, and returns them.
func (w *watch) waitFor(what string, done func(frames []string) bool) []string {
	w.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if frames := w.frames(); len(frames) > 0 && done(frames) {
			return frames
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: not within 90s; output:\n%s\nerrors:\n%s", what, w.out.String(), w.errOut.String())
		}
		select {
		case code := <-w.done:
			w.t.Fatalf("status --watch exited with %d:\n%s", code, w.errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitForErr polls the error output until it says want.
func (w *watch) waitForErr(want string) {
	w.t.Helper()
	w.waitFor("the error output saying "+want, func([]string) bool { return strings.Contains(w.errOut.String(), want) })
}

// stop interrupts the command, which ends without an error.
func (w *watch) stop() {
	w.t.Helper()
	w.cancel()
	if code := <-w.done; code != exitOK {
		w.t.Errorf("status --watch exited with %d after an interrupt:\n%s", code, w.errOut.String())
	}
}
