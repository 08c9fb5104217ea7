package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// tokensConfig is e2eConfig with a read and a write token, by
// environment variable.
const tokensConfig = e2eConfig + `server:
  tokens:
    - {name: dashboard, scope: read, secret: {env: JIBE_TEST_READ}}
    - {name: ci, scope: write, secret: {env: JIBE_TEST_WRITE}}
`

const (
	readSecret  = "r-0123456789abcdef0123456789abcdef"
	writeSecret = "w-0123456789abcdef0123456789abcdef"
)

// request sends GET url with token (none when "") and returns the status
// and body.
func request(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// With tokens configured, the API needs one: none or an unknown one is
// 401, a read token reads, a write route refuses a read token with 403
// and takes a write token; webhooks, /healthz and /metrics need none, and
// no token is logged.
func TestAPIAccessByTokens(t *testing.T) {
	t.Setenv("JIBE_TEST_READ", readSecret)
	t.Setenv("JIBE_TEST_WRITE", writeSecret)
	var logs bytes.Buffer
	h := newHarnessWith(t, tokensConfig, func(_ *harness, o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	hooks := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("hook\n")) })
	mux := http.NewServeMux()
	mux.Handle("/", h.agent.Handler(hooks))
	mux.Handle("GET /act", h.agent.Require(ScopeWrite, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("acted as " + TokenName(r.Context())))
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, c := range []struct {
		path, token string
		status      int
		body        string
	}{
		{"/api/v1/applications", "", 401, "this endpoint needs a token"},
		{"/api/v1/applications", "nope", 401, "the token is not one of server.tokens"},
		{"/api/v1/applications", readSecret, 200, "[]"},
		{"/api/v1/sources", writeSecret, 200, `"name": "shop"`},
		{"/act", readSecret, 403, "token dashboard has the read scope; this action needs a token with scope write"},
		{"/act", "", 401, "this endpoint needs a token"},
		{"/act", writeSecret, 200, "acted as ci"},
		{"/hooks/github", "", 200, "hook"},
		{"/healthz", "", 200, "ok"},
		{"/metrics", "", 200, "go_goroutines"},
	} {
		status, body := request(t, srv.URL+c.path, c.token)
		if status != c.status || !strings.Contains(body, c.body) {
			t.Errorf("GET %s with token %q = %d %q, want %d with %q", c.path, c.token, status, body, c.status, c.body)
		}
	}
	if strings.Contains(logs.String(), readSecret) || strings.Contains(logs.String(), writeSecret) {
		t.Errorf("a token is in the logs:\n%s", logs.String())
	}
}

// server.openRead lets requests without a token read; writing still
// needs a write token.
func TestAPIOpenRead(t *testing.T) {
	t.Setenv("JIBE_TEST_READ", readSecret)
	t.Setenv("JIBE_TEST_WRITE", writeSecret)
	h := newHarnessWith(t, tokensConfig+"  openRead: true\n", nil)
	mux := http.NewServeMux()
	mux.Handle("/", h.agent.Handler(nil))
	mux.Handle("GET /act", h.agent.Require(ScopeWrite, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	if status, body := request(t, srv.URL+"/api/v1/applications", ""); status != 200 {
		t.Errorf("open read: %d %s", status, body)
	}
	if status, body := request(t, srv.URL+"/act", ""); status != 401 {
		t.Errorf("an action without a token: %d %s", status, body)
	}
}

// sseEvent is one server-sent event as read off the wire.
type sseEvent struct {
	id, event string
	data      EventView
}

// readEvents reads server-sent events from body into the returned
// channel until it ends; comments and the retry field are skipped.
func readEvents(t *testing.T, body io.Reader) <-chan sseEvent {
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && e.event != "":
				out <- e
				e = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				e.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				e.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e.data); err != nil {
					t.Errorf("data %q: %v", line, err)
				}
			}
		}
	}()
	return out
}

// GET /api/v1/events streams the agent's events as server-sent events,
// read here with net/http through the agent's own server (its write
// timeout does not cut the stream), and ends when the server shuts down.
func TestAPIEventsStream(t *testing.T) {
	h := newHarness(t)
	srv, err := NewServer("127.0.0.1:0", h.agent.Handler(nil), ServerLimits{WriteTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	url := "http://" + srv.Addr().String() + "/api/v1/events?app=shop/shop"
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("GET /api/v1/events: %s, Content-Type %q", resp.Status, ct)
	}
	events := readEvents(t, resp.Body)

	broken := strings.Replace(validSpec, "cluster: staging", "cluster: staging, namespace: Shop_NS", 1)
	sha := h.push(map[string]string{"apps/shop/jibe.yaml": broken, "apps/shop/k8s/cm.yaml": configMap})
	select {
	case e := <-events:
		if e.event != "refused" || e.data.Type != "refused" || e.data.Kind != "spec-invalid" || e.data.App != "shop/shop" ||
			e.data.Env != "staging" || e.data.Revision != sha || e.id != "1" || e.data.Seq != 1 || !strings.Contains(e.data.Message, "Shop_NS") {
			t.Errorf("first event = %+v", e)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no event within 30s of an invalid push")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a stream open: %v", err)
	}
	for range events {
	}
}
