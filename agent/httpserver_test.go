package agent

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/sources"
)

const testHookSecret = "server-test-hook-secret"

// startServer serves the agent's handler, with real webhooks, through
// NewServer on loopback.
func startServer(t *testing.T, limits ServerLimits) string {
	t.Helper()
	h := newHarness(t)
	t.Setenv("JIBE_TEST_HOOK_SECRET", testHookSecret)
	secret, err := config.SecretRef{Env: "JIBE_TEST_HOOK_SECRET"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	hook, err := sources.NewWebhook(sources.WebhookOptions{Secret: secret, Trigger: h.git,
		MaxBodyBytes: limits.MaxWebhookBody, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hooks := http.NewServeMux()
	hooks.Handle("/hooks/github", hook.GitHub())
	srv, err := NewServer("127.0.0.1:0", h.agent.Handler(hooks), limits)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != http.ErrServerClosed {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	})
	return srv.Addr().String()
}

// trickleEvery is how often a slow client sends its next byte: more often
// than any timeout of the tests, so that only a bound on the whole request
// (or on idleness) can close its connection.
const trickleEvery = 50 * time.Millisecond

// slowKind is one way a client holds a connection open.
type slowKind struct {
	name string
	// request is sent at once.
	request string
	// trickle sends one more byte every trickleEvery, until the server
	// closes the connection.
	trickle bool
}

var (
	slowHeaders = slowKind{"headers sent byte by byte",
		"GET /healthz HTTP/1.1\r\nHost: jibe\r\nX-Slow: ", true}
	slowWebhookBody = slowKind{"webhook body sent byte by byte",
		"POST /hooks/github HTTP/1.1\r\nHost: jibe\r\nX-GitHub-Event: push\r\nContent-Length: 100000\r\n\r\n", true}
	slowAPIBody = slowKind{"API request with a body sent byte by byte",
		"GET /api/v1/applications HTTP/1.1\r\nHost: jibe\r\nContent-Length: 100000\r\n\r\n", true}
	idleKeepAlive = slowKind{"idle keep-alive connection",
		"GET /healthz HTTP/1.1\r\nHost: jibe\r\n\r\n", false}
)

// slowClient is one connection of a slowKind.
type slowClient struct {
	kind slowKind
	conn net.Conn
	// answered is closed once status is set, closed once the server has
	// closed the connection.
	answered, closed chan struct{}
	// status is the first line the server answered, "" for none.
	status string
}

// openSlow opens n connections of kind to addr. They are closed when the
// test ends.
func openSlow(t *testing.T, addr string, kind slowKind, n int) []*slowClient {
	t.Helper()
	out := make([]*slowClient, n)
	for i := range out {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d of %s: %v", i, kind.name, err)
		}
		t.Cleanup(func() { conn.Close() })
		c := &slowClient{kind: kind, conn: conn, answered: make(chan struct{}), closed: make(chan struct{})}
		if _, err := io.WriteString(conn, kind.request); err != nil {
			t.Fatal(err)
		}
		go c.read()
		if kind.trickle {
			go c.trickle()
		}
		out[i] = c
	}
	return out
}

// read keeps the first line the server answers and returns when the
// server closes the connection.
func (c *slowClient) read() {
	r := bufio.NewReader(c.conn)
	line, _ := r.ReadString('\n')
	c.status = strings.TrimSpace(line)
	close(c.answered)
	io.Copy(io.Discard, r)
	close(c.closed)
}

func (c *slowClient) trickle() {
	tick := time.NewTicker(trickleEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-tick.C:
			if _, err := c.conn.Write([]byte("a")); err != nil {
				return
			}
		}
	}
}

func (c *slowClient) isClosed() bool { return isDone(c.closed) }

func (c *slowClient) isAnswered() bool { return isDone(c.answered) }

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// eventually polls cond until it holds, failing the test after deadline
// with what cond last saw.
func eventually(t *testing.T, what string, deadline time.Duration, cond func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(deadline)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s; %s", what, deadline, seen)
		}
		<-tick.C
	}
}

// holds adapts a condition that has nothing to say for eventually.
func holds(cond func() bool) func() (bool, string) {
	return func() (bool, string) { return cond(), "" }
}

// pending counts, by kind, the clients that do not satisfy cond.
func pending(clients []*slowClient, cond func(*slowClient) bool) map[string]int {
	out := map[string]int{}
	for _, c := range clients {
		if !cond(c) {
			out[c.kind.name]++
		}
	}
	return out
}

// Slow clients of every kind are disconnected by the server: headers and
// bodies must arrive within their timeouts however steadily they trickle,
// API requests take no body, and idle connections are closed.
func TestServerClosesSlowConnections(t *testing.T) {
	limits := ServerLimits{
		ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
		WriteTimeout: 2 * time.Second, IdleTimeout: 200 * time.Millisecond,
		MaxConnections: 1000, MaxConcurrentWebhooks: 4, MaxWebhookBody: 1 << 20,
	}
	addr := startServer(t, limits)
	const perKind = 50
	var clients []*slowClient
	for _, kind := range []slowKind{slowHeaders, slowWebhookBody, slowAPIBody, idleKeepAlive} {
		clients = append(clients, openSlow(t, addr, kind, perKind)...)
	}
	eventually(t, "the server closes every slow connection", 10*time.Second, func() (bool, string) {
		open := pending(clients, (*slowClient).isClosed)
		return len(open) == 0, fmt.Sprintf("still open: %v", open)
	})

	// What each was told before being disconnected.
	want := map[string][]string{
		slowHeaders.name:     {""},
		slowWebhookBody.name: {"HTTP/1.1 408 Request Timeout", "HTTP/1.1 503 Service Unavailable"},
		slowAPIBody.name:     {"HTTP/1.1 413 Request Entity Too Large"},
		idleKeepAlive.name:   {"HTTP/1.1 200 OK"},
	}
	for _, c := range clients {
		if !slices.Contains(want[c.kind.name], c.status) {
			t.Errorf("%s: answered %q, want one of %q", c.kind.name, c.status, want[c.kind.name])
		}
	}
}

// While hundreds of slow clients hold connections, /healthz answers at
// once, webhooks beyond the concurrency limit are refused with 503 and
// Retry-After (without their bodies being read), and a webhook body above
// the size limit is refused from its Content-Length.
func TestServerAnswersHealthzUnderSlowClients(t *testing.T) {
	limits := ServerLimits{
		ReadHeaderTimeout: time.Minute, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: time.Minute,
		MaxConnections: 1000, MaxConcurrentWebhooks: 2, MaxWebhookBody: 1 << 20,
	}
	addr := startServer(t, limits)
	const perKind = 100
	headers := openSlow(t, addr, slowHeaders, perKind)
	idle := openSlow(t, addr, idleKeepAlive, perKind)
	hooks := openSlow(t, addr, slowWebhookBody, perKind)
	var refused, holding []*slowClient
	eventually(t, "webhooks beyond the limit are refused", 10*time.Second, func() (bool, string) {
		n := countOpen(hooks)
		return n == limits.MaxConcurrentWebhooks, fmt.Sprintf("%d webhook connections open", n)
	})
	for _, c := range hooks {
		if c.isClosed() {
			refused = append(refused, c)
		} else {
			holding = append(holding, c)
		}
	}
	for _, c := range refused {
		if c.status != "HTTP/1.1 503 Service Unavailable" {
			t.Errorf("a webhook beyond the limit was answered %q, want 503", c.status)
			break
		}
	}
	eventually(t, "idle connections got their answer", 10*time.Second, holds(func() bool {
		return len(pending(idle, (*slowClient).isAnswered)) == 0
	}))

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz under slow clients: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("/healthz: %s %q", resp.Status, body)
	}

	push := []byte(`{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"acme/shop"}}`)
	resp = postHook(t, client, addr, push)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a signed webhook while the slots are held: %s, Retry-After %q; want 503 with Retry-After",
			resp.Status, resp.Header.Get("Retry-After"))
	}

	oversized := fmt.Sprintf("POST /hooks/github HTTP/1.1\r\nHost: jibe\r\nContent-Length: %d\r\n\r\n", limits.MaxWebhookBody+1)
	big := openSlow(t, addr, slowKind{name: "oversized webhook", request: oversized}, 1)
	eventually(t, "an oversized webhook is refused", 10*time.Second, holds(big[0].isClosed))
	if big[0].status != "HTTP/1.1 413 Request Entity Too Large" {
		t.Errorf("oversized webhook: %q, want 413", big[0].status)
	}

	// The slow clients are still connected: /healthz did not wait for them.
	for _, group := range [][]*slowClient{headers, idle, holding} {
		if n := countOpen(group); n != len(group) {
			t.Errorf("%s: %d of %d connections were closed during the test", group[0].kind.name, len(group)-n, len(group))
		}
	}
}

func countOpen(clients []*slowClient) int {
	n := 0
	for _, c := range clients {
		if !c.isClosed() {
			n++
		}
	}
	return n
}

func postHook(t *testing.T, client *http.Client, addr string, body []byte) *http.Response {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(testHookSecret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/hooks/github", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
