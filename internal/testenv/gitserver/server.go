// Package gitserver runs a real Git server for tests: git http-backend behind
// net/http/cgi on an httptest.Server, and optionally an in-process SSH server
// that runs git-upload-pack and git-receive-pack. Repositories are bare
// repositories in a temporary directory owned by the test.
package gitserver

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// HTTPBackend returns the path of git http-backend, in git's exec path
// (/usr/lib/git-core on Debian, elsewhere on other systems), or an error
// saying to install git.
func HTTPBackend() (string, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return "", fmt.Errorf("the Git server needs the git command: install git (%w)", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("the Git server needs git http-backend, which is not in git's exec path: install git's full package (%w)", err)
	}
	return path, nil
}

// TB is what a Server needs from its owner: *testing.T and *testing.B
// satisfy it, and so can a program that runs a server outside a test
// (`jibe demo`). Fatalf must not return, as testing.T's does not.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(f func())
	TempDir() string
}

// Server is a Git server serving the bare repositories created with
// CreateRepo over smart HTTP (and over SSH when started WithSSH).
// All methods are safe for concurrent use.
type Server struct {
	t     TB
	root  string
	http  *httptest.Server
	auth  authConfig
	log   requestLog
	ssh   *SSHServer
	mu    sync.Mutex
	repos map[string]*Repo
}

// Option configures a Server.
type Option func(*config)

type config struct {
	auth    authConfig
	withSSH bool
}

type authConfig struct {
	user, password string
	tokens         []string
	readOnly       []string
}

// enabled reports whether requests must carry credentials.
func (a authConfig) enabled() bool {
	return a.user != "" || len(a.tokens) > 0 || len(a.readOnly) > 0
}

// WithBasicAuth requires HTTP basic authentication with user and password.
// It may be combined with WithToken; a request passing either is accepted.
func WithBasicAuth(user, password string) Option {
	return func(c *config) { c.auth.user, c.auth.password = user, password }
}

// WithToken accepts token as "Authorization: Bearer <token>" or as the
// password of HTTP basic authentication with any user name, the way GitHub
// accepts personal access tokens. It may be given more than once.
func WithToken(token string) Option {
	return func(c *config) { c.auth.tokens = append(c.auth.tokens, token) }
}

// WithReadOnlyToken accepts token like WithToken for fetches, and refuses
// pushes made with it with 403 Forbidden, as GitHub refuses a token
// without contents:write. It may be given more than once.
func WithReadOnlyToken(token string) Option {
	return func(c *config) { c.auth.readOnly = append(c.auth.readOnly, token) }
}

// WithSSH also starts an SSH server; see Server.SSH.
func WithSSH() Option {
	return func(c *config) { c.withSSH = true }
}

// New starts a Git server that is closed when the test ends (when t's
// cleanups run).
func New(t TB, opts ...Option) *Server {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{t: t, root: t.TempDir(), auth: cfg.auth, repos: map[string]*Repo{}}
	s.http = httptest.NewServer(s.handler())
	t.Cleanup(s.http.Close)
	if cfg.withSSH {
		s.ssh = startSSH(t, s.root)
	}
	return s
}

// URL returns the base URL of the HTTP server, without a trailing slash.
func (s *Server) URL() string { return s.http.URL }

// SSH returns the SSH server, or nil when the server was not started WithSSH.
func (s *Server) SSH() *SSHServer { return s.ssh }

// handler logs every request, checks credentials and hands the rest to
// git http-backend.
func (s *Server) handler() http.Handler {
	path, err := HTTPBackend()
	if err != nil {
		s.t.Fatalf("gitserver: %v", err)
	}
	backend := &cgi.Handler{
		Path: path,
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=" + os.DevNull,
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		user, ok := s.authenticate(r)
		switch {
		case !ok:
			rec.Header().Set("WWW-Authenticate", `Basic realm="gitserver"`)
			http.Error(rec, "authentication required", http.StatusUnauthorized)
		case isPush(r) && s.readOnly(r):
			http.Error(rec, "permission denied: the token may not push", http.StatusForbidden)
		default:
			serveBackend(backend, rec, r, user)
			if isPush(r) && r.Method == http.MethodPost && rec.status == http.StatusOK {
				s.pushed(r.URL.Path)
			}
		}
		s.log.add(r, rec.status, user)
	})
}

// isPush reports whether r is part of a push (git-receive-pack).
func isPush(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, "/git-receive-pack") || r.URL.Query().Get("service") == "git-receive-pack"
}

// readOnly reports whether r authenticated with a read-only token only.
func (s *Server) readOnly(r *http.Request) bool {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if _, pass, ok := r.BasicAuth(); ok {
		tok = pass
	}
	return contains(s.auth.readOnly, tok) && !contains(s.auth.tokens, tok)
}

// pushed runs the push hook of the repository a receive-pack request
// (path "/name.git/git-receive-pack") went to.
func (s *Server) pushed(path string) {
	name := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/git-receive-pack")
	s.mu.Lock()
	r := s.repos[repoFile(name)]
	s.mu.Unlock()
	if r != nil {
		r.runPushHooks()
	}
}

// authenticate returns the authenticated user name and whether the request
// may proceed.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	if !s.auth.enabled() {
		return "anonymous", true
	}
	if user, pass, ok := r.BasicAuth(); ok {
		if s.auth.user != "" && equal(user, s.auth.user) && equal(pass, s.auth.password) {
			return user, true
		}
		return user, s.validToken(pass)
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return "token", s.validToken(tok)
	}
	return "", false
}

func (s *Server) validToken(tok string) bool {
	return contains(s.auth.tokens, tok) || contains(s.auth.readOnly, tok)
}

// contains compares tok with each of tokens in constant time.
func contains(tokens []string, tok string) bool {
	for _, want := range tokens {
		if equal(tok, want) {
			return true
		}
	}
	return false
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// serveBackend runs git http-backend with REMOTE_USER set to user, without
// passing the credentials into the CGI environment.
func serveBackend(backend *cgi.Handler, w http.ResponseWriter, r *http.Request, user string) {
	h := *backend
	h.Env = append(append([]string(nil), backend.Env...), "REMOTE_USER="+user)
	r2 := r.Clone(r.Context())
	r2.Header.Del("Authorization")
	h.ServeHTTP(w, r2)
}

// statusRecorder remembers the status code written by the backend.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Flush lets git http-backend stream pack data.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// repoDir returns the directory of the bare repository name.
func (s *Server) repoDir(name string) string {
	return filepath.Join(s.root, repoFile(name))
}

// repoFile appends ".git" to name unless it already ends with it.
func repoFile(name string) string {
	if strings.HasSuffix(name, ".git") {
		return name
	}
	return name + ".git"
}
