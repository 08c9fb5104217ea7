package githubemu

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// identity is who a request is authenticated as.
type identity struct {
	user   *user         // the acting account: a user or an app's bot user
	inst   *installation // set for installation tokens
	app    *app          // set for app JWTs
	bucket string        // rate-limit bucket
}

// name is how the identity appears in the request log.
func (id *identity) name() string {
	switch {
	case id == nil:
		return ""
	case id.app != nil:
		return "app:" + id.app.slug
	default:
		return id.user.login
	}
}

type identityKey struct{}

// caller returns the identity of an authenticated request.
func caller(r *http.Request) *identity {
	id, _ := r.Context().Value(identityKey{}).(*identity)
	return id
}

// serve runs the request through faults, authentication, rate limits, the
// route and conditional-request handling, and returns the identity name.
func (e *Emulator) serve(w *recorder, r *http.Request) string {
	if f := e.takeFault(r); f != nil {
		f.write(w)
		return ""
	}
	id, ok := e.authenticate(w, r)
	if !ok {
		return ""
	}
	if !e.admit(w, r, id) {
		return id.name()
	}
	e.route(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	e.finish(w, r, id)
	return id.name()
}

// route dispatches to the handler registered for the request, answering
// GitHub's 404 body when there is none.
func (e *Emulator) route(w http.ResponseWriter, r *http.Request) {
	if _, pattern := e.mux.Handler(r); pattern == "" {
		writeNotFound(w)
		return
	}
	e.mux.ServeHTTP(w, r)
}

// authenticate resolves the Authorization header. It writes GitHub's 401
// and returns false for a missing, unknown or expired credential.
func (e *Emulator) authenticate(w *recorder, r *http.Request) (*identity, bool) {
	cred := credential(r.Header.Get("Authorization"))
	var id *identity
	msg := "Bad credentials"
	switch {
	case cred == "":
		msg = "Requires authentication"
	case strings.HasPrefix(r.URL.Path, "/app/") || r.URL.Path == "/app":
		id, msg = e.authenticateApp(cred)
	default:
		id = e.authenticateToken(cred)
	}
	if id == nil {
		e.setRateHeaders(w, "anonymous")
		writeError(w, http.StatusUnauthorized, msg, docREST)
		return nil, false
	}
	return id, true
}

// credential extracts the token from "token X" or "Bearer X".
func credential(header string) string {
	scheme, value, ok := strings.Cut(header, " ")
	if !ok || (!strings.EqualFold(scheme, "token") && !strings.EqualFold(scheme, "bearer")) {
		return ""
	}
	return strings.TrimSpace(value)
}

// authenticateToken resolves a personal access token or an unexpired
// installation token.
func (e *Emulator) authenticateToken(value string) *identity {
	e.mu.Lock()
	defer e.mu.Unlock()
	tok, ok := e.state.tokens[value]
	if !ok || (!tok.expires.IsZero() && !e.now().Before(tok.expires)) {
		return nil
	}
	if tok.inst != nil {
		return &identity{user: tok.inst.app.bot, inst: tok.inst, bucket: "installation:" + strconv.FormatInt(tok.inst.id, 10)}
	}
	return &identity{user: tok.user, bucket: "user:" + strconv.FormatInt(tok.user.id, 10)}
}

// admit applies injected secondary limits and the primary rate limit,
// writing GitHub's 403 (or 429) when the request is refused.
func (e *Emulator) admit(w *recorder, r *http.Request, id *identity) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.opts.Now()
	if sl := e.limits.secondary(id.bucket, r.Method, now); sl != nil {
		e.limits.headers(w.header, id.bucket, now)
		w.header.Set("Retry-After", strconv.Itoa(int(sl.RetryAfter.Seconds())))
		writeError(w, sl.status(), secondaryMessage(len(e.log)), docSecondaryLimit)
		return false
	}
	if e.limits.exhausted(id.bucket, now) {
		e.limits.headers(w.header, id.bucket, now)
		writeError(w, http.StatusForbidden, primaryMessage(id, len(e.log)), docRateLimit)
		return false
	}
	return true
}

// finish answers conditional GETs with 304 and counts every other
// response against the primary rate limit, then sets the rate headers.
func (e *Emulator) finish(w *recorder, r *http.Request, id *identity) {
	counted := true
	if r.Method == http.MethodGet && w.status == http.StatusOK {
		tag := w.etag()
		w.header.Set("ETag", tag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, tag) {
			w.notModified()
			counted = false
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if counted && !isRateLimitEndpoint(r) {
		e.limits.count(id.bucket, e.opts.Now())
	}
	e.limits.headers(w.header, id.bucket, e.opts.Now())
}

// isRateLimitEndpoint reports whether r is GET /rate_limit, which GitHub
// does not count against the limit.
func isRateLimitEndpoint(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Path == "/rate_limit"
}

// setRateHeaders sets the rate-limit headers of bucket on w.
func (e *Emulator) setRateHeaders(w *recorder, bucket string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limits.headers(w.header, bucket, e.opts.Now())
}

func primaryMessage(id *identity, n int) string {
	who := "user ID " + strconv.FormatInt(id.user.id, 10)
	if id.inst != nil {
		who = "installation ID " + strconv.FormatInt(id.inst.id, 10)
	}
	return "API rate limit exceeded for " + who + ". If you reach out to GitHub Support for help, please include the request ID " + requestID(n) + "."
}

func secondaryMessage(n int) string {
	return "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID " + requestID(n) + "."
}
