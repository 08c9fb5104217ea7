package agent

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/jibe-dev/jibe/config"
)

// The scopes a route may require (see Require): a token's scope, from
// server.tokens.
const (
	ScopeRead  = config.ScopeRead
	ScopeWrite = config.ScopeWrite
)

// TokenCookie is the cookie a browser may carry the token in instead of
// the Authorization header (EventSource cannot set headers). The
// dashboard sets it; it is HttpOnly and SameSite=Strict.
const TokenCookie = "jibe_token"

// access is who may use the API: the tokens of server.tokens, by their
// SHA-256 (compared in constant time), and whether reading is open.
type access struct {
	tokens   []apiToken
	openRead bool
	// problem, when set, says why no token can be checked (a secret that
	// cannot be read); every request needing a token is refused with it.
	problem string
}

type apiToken struct {
	name  string
	scope config.TokenScope
	sum   [sha256.Size]byte
}

// newAccess reads the tokens' secrets. A secret that cannot be read
// leaves access refusing every token, saying which field to fix; the
// error never holds a secret.
func newAccess(s config.Server) *access {
	ac := &access{openRead: s.ReadIsOpen()}
	for i, t := range s.Tokens {
		secret, err := t.Secret.Resolve()
		if err != nil {
			ac.problem = fmt.Sprintf("server.tokens[%d].secret: %v", i, err)
			ac.tokens = nil
			return ac
		}
		ac.tokens = append(ac.tokens, apiToken{name: t.Name, scope: t.Scope, sum: sha256.Sum256([]byte(secret.Reveal()))})
	}
	return ac
}

// tokenKey is the context key of the name of the token a request came
// with.
type tokenKey struct{}

// TokenName returns the name of the token the request was let in with
// (server.tokens[].name), "" for open read access: for audit records of
// actions.
func TokenName(ctx context.Context) string {
	name, _ := ctx.Value(tokenKey{}).(string)
	return name
}

// Require serves h to requests whose token has scope (write includes
// read), or without a token when scope is read and reading is open
// (server.openRead). Others get 401 (no token, or an unknown one) or 403
// (a read token for a write route), with a message saying what to send.
// Tokens are never logged nor echoed.
func (a *Agent) Require(scope config.TokenScope, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ac := a.access.Load()
		presented, ok := bearer(r)
		if !ok && scope == ScopeRead && ac.openRead {
			h.ServeHTTP(w, r)
			return
		}
		if ac.problem != "" {
			http.Error(w, "the agent cannot check tokens: "+ac.problem+"; fix the configuration", http.StatusServiceUnavailable)
			return
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="jibe"`)
			http.Error(w, "this endpoint needs a token: send \"Authorization: Bearer <token>\" with a token of server.tokens in the agent's configuration", http.StatusUnauthorized)
			return
		}
		t := ac.find(presented)
		switch {
		case t != nil && crossSite(r):
			http.Error(w, "a request signed in by the dashboard's cookie that changes something must come from the dashboard's own page (same origin, header "+ActionHeader+"): send the token as \"Authorization: Bearer <token>\" instead", http.StatusForbidden)
		case t == nil:
			w.Header().Set("WWW-Authenticate", `Bearer realm="jibe", error="invalid_token"`)
			http.Error(w, "the token is not one of server.tokens: check it, or ask for one", http.StatusUnauthorized)
		case scope == ScopeWrite && t.scope != ScopeWrite:
			http.Error(w, fmt.Sprintf("token %s has the read scope; this action needs a token with scope write", t.name), http.StatusForbidden)
		default:
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, t.name)))
		}
	})
}

// ActionHeader is the header the dashboard's script sets on the actions
// it posts: a page of another site cannot set it without the agent's
// consent (CORS), which the agent never gives.
const ActionHeader = "X-Jibe-Action"

// crossSite reports whether r would change something with the token of
// the dashboard's cookie without coming from the dashboard's own script
// (cross-site request forgery): it lacks ActionHeader, or the browser
// says it came from another site or origin. Requests that carry the
// token in the Authorization header cannot be forged by another page.
func crossSite(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Header.Get("Authorization") != "" {
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return true
	}
	return r.Header.Get(ActionHeader) == ""
}

// find returns the token whose secret is presented, nil for none. Every
// token is compared, in constant time.
func (ac *access) find(presented string) *apiToken {
	sum := sha256.Sum256([]byte(presented))
	var found *apiToken
	for i := range ac.tokens {
		if subtle.ConstantTimeCompare(sum[:], ac.tokens[i].sum[:]) == 1 {
			found = &ac.tokens[i]
		}
	}
	return found
}

// bearer returns the token of the Authorization header ("Bearer <token>"),
// or of the TokenCookie cookie.
func bearer(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != "" {
			return strings.TrimSpace(token), true
		}
		return "", false
	}
	if c, err := r.Cookie(TokenCookie); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}
