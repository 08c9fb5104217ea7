package checks

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
)

// countingServer is a loopback server that counts the requests it gets.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// hostsInput is the check input of a source whose allow.checkHosts is
// allow.
func hostsInput(allow ...string) reconcile.CheckInput {
	src := &config.Source{Name: "shop", Allow: config.Tenancy{CheckHosts: allow}}
	return reconcile.CheckInput{Hosts: src.CheckHostPolicy()}
}

func port(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// A check whose URL the source may not reach is refused before any
// request: loopback needs listing.
func TestHTTPCheckHostRefused(t *testing.T) {
	target, hits := countingServer(t, nil)
	h := &HTTP{}
	for _, in := range []reconcile.CheckInput{hostsInput(), hostsInput("*"), hostsInput("api.acme.com")} {
		_, err := h.Measure(t.Context(), httpCheck(target.URL, nil), in)
		if !isStalled(err) || !strings.Contains(err.Error(), "allow.checkHosts") {
			t.Errorf("err = %v; want a stalled refusal naming allow.checkHosts", err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server got %d requests, want 0", n)
	}
	m, err := h.Measure(t.Context(), httpCheck(target.URL, nil), hostsInput("127.0.0.1:"+port(t, target)))
	if err != nil || !m.Passed || hits.Load() != 1 {
		t.Errorf("listed: %+v, %v, %d requests", m, err, hits.Load())
	}
}

// A host name allowed by name but resolving to a loopback address that no
// address entry lists is refused when dialling (DNS rebinding).
func TestHTTPCheckNameResolvingToDeniedAddress(t *testing.T) {
	if addrs, err := net.DefaultResolver.LookupHost(t.Context(), "localhost"); err != nil || len(addrs) == 0 {
		t.Fatalf("localhost does not resolve here: %v", err)
	}
	target, hits := countingServer(t, nil)
	u := "http://localhost:" + port(t, target) + "/healthz"
	h := &HTTP{}
	for _, in := range []reconcile.CheckInput{hostsInput(), hostsInput("localhost"), hostsInput("*")} {
		m, err := h.Measure(t.Context(), httpCheck(u, nil), in)
		if err != nil || m.Passed || !strings.Contains(m.Detail, "allow.checkHosts") {
			t.Errorf("measurement = %+v, %v; want a failure naming allow.checkHosts", m, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server got %d requests, want 0", n)
	}
	m, err := h.Measure(t.Context(), httpCheck(u, nil), hostsInput("localhost", "127.0.0.1:"+port(t, target)))
	if err != nil || !m.Passed || hits.Load() != 1 {
		t.Errorf("address listed: %+v, %v, %d requests", m, err, hits.Load())
	}
}

// A redirect is checked like the first URL: by its host, and by the
// address its name resolves to.
func TestHTTPCheckRedirectToDeniedAddress(t *testing.T) {
	target, hits := countingServer(t, nil)
	var to atomic.Value
	first, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to.Load().(string), http.StatusFound)
	})
	allowFirst := "127.0.0.1:" + port(t, first)
	h := &HTTP{}
	for _, tt := range []struct{ to, allow string }{
		{target.URL, ""}, // the address is not listed
		{"http://localhost:" + port(t, target), ""},          // nor the name
		{"http://localhost:" + port(t, target), "localhost"}, // the name is, but not its address
		{"http://169.254.169.254/latest/meta-data/", "*"},
	} {
		to.Store(tt.to)
		allow := []string{allowFirst}
		if tt.allow != "" {
			allow = append(allow, tt.allow)
		}
		m, err := h.Measure(t.Context(), httpCheck(first.URL, nil), hostsInput(allow...))
		if err != nil || m.Passed || !strings.Contains(m.Detail, "allow.checkHosts") {
			t.Errorf("redirect to %s with %v: %+v, %v; want a failure naming allow.checkHosts", tt.to, allow, m, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want 0", n)
	}
	to.Store(target.URL)
	m, err := h.Measure(t.Context(), httpCheck(first.URL, nil), hostsInput(allowFirst, "127.0.0.1:"+port(t, target)))
	if err != nil || !m.Passed || hits.Load() != 1 {
		t.Errorf("target listed: %+v, %v, %d requests", m, err, hits.Load())
	}
}
