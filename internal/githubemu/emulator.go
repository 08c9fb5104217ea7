// Package githubemu emulates the parts of the GitHub REST API that Jibe
// uses, with GitHub's semantics: validation errors, authentication with
// personal access tokens and GitHub App installation tokens, primary and
// secondary rate limits, conditional requests, pagination and webhooks.
//
// An Emulator is an http.Handler; Start runs it on an httptest.Server for a
// test. State is changed through the REST API or the Go methods of Emulator,
// which tests use to play the part of people (opening pull requests,
// reviewing, merging).
package githubemu

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// DefaultRateLimit is GitHub's primary rate limit per hour for personal
// access tokens and installation tokens.
const DefaultRateLimit = 5000

// Options configures an Emulator. The zero value is usable.
type Options struct {
	// BaseURL is the API root used in URLs inside responses and webhook
	// payloads. Start sets it to the test server's URL.
	BaseURL string
	// RateLimit is the primary rate limit per identity per hour;
	// DefaultRateLimit when zero.
	RateLimit int
	// Now is the emulator's clock; time.Now when nil. Rate-limit windows,
	// token expiry and timestamps follow it, so tests can advance time
	// without sleeping.
	Now func() time.Time
	// HTTPClient delivers webhooks; a client with a 10-second timeout when nil.
	HTTPClient *http.Client
}

// Emulator is an in-memory GitHub. All methods are safe for concurrent use.
type Emulator struct {
	opts   Options
	mux    *http.ServeMux
	server *httptest.Server
	seq    atomic.Int64 // request counter for X-GitHub-Request-Id

	mu     sync.Mutex
	state  *state
	limits *limiter
	faults []*Fault
	log    []Request
	hooks  []*webhook
	sent   []Delivery
}

// New returns an Emulator that is not listening anywhere; serve it with
// any http.Server, or use Start in tests.
func New(opts Options) *Emulator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "http://github.localhost"
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	e := &Emulator{opts: opts, state: newState(), limits: newLimiter(opts.RateLimit)}
	e.mux = e.routes()
	return e
}

// Start runs a new Emulator on an httptest.Server closed when the test
// ends. Options.BaseURL is replaced by the server's URL.
func Start(t testing.TB, opts Options) *Emulator {
	t.Helper()
	e := New(opts)
	e.server = httptest.NewServer(e)
	t.Cleanup(e.server.Close)
	e.mu.Lock()
	e.opts.BaseURL = e.server.URL
	e.mu.Unlock()
	return e
}

// URL returns the API root without a trailing slash, e.g.
// "http://127.0.0.1:34567". go-github needs it with a trailing slash as
// Client.BaseURL.
func (e *Emulator) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opts.BaseURL
}

// now returns the emulator's current time, truncated to seconds as GitHub's
// timestamps are.
func (e *Emulator) now() time.Time {
	return e.opts.Now().UTC().Truncate(time.Second)
}

// enterprisePrefix is GitHub Enterprise Server's API path prefix.
const enterprisePrefix = "/api/v3"

// prefixKey is the context key of the path prefix a request came under.
type prefixKey struct{}

// pathPrefix returns the path prefix r came under ("" or "/api/v3").
func pathPrefix(r *http.Request) string {
	p, _ := r.Context().Value(prefixKey{}).(string)
	return p
}

// ServeHTTP answers one API request. Requests under "/api/v3" (GitHub
// Enterprise Server's prefix) are served like requests to the root.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, enterprisePrefix); ok {
		r = r.Clone(context.WithValue(r.Context(), prefixKey{}, enterprisePrefix))
		r.URL.Path = rest
		r.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, enterprisePrefix)
	}
	rec := newRecorder()
	rec.header.Set("X-GitHub-Request-Id", requestID(int(e.seq.Add(1))))
	rec.header.Set("X-GitHub-Media-Type", "github.v3; format=json")
	identity := e.serve(rec, r)
	rec.flush(w)
	e.record(r, rec.status, identity)
}
