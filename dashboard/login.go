package dashboard

import (
	"net/http"
	"strings"

	"github.com/jibe-dev/jibe/agent"
)

// guard serves h to requests that may read (Options.Require); others get
// the login page.
func (d *Dashboard) guard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.mayRead(r) {
			d.loginPage(w, r, http.StatusUnauthorized, "")
			return
		}
		h(w, r)
	})
}

// mayRead reports whether Options.Require lets r read.
func (d *Dashboard) mayRead(r *http.Request) bool {
	if d.opts.Require == nil {
		return true
	}
	let := false
	d.opts.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { let = true })).ServeHTTP(discard{}, r)
	return let
}

// mayWrite reports whether Options.Write lets r act.
func (d *Dashboard) mayWrite(r *http.Request) bool {
	if d.opts.Write == nil {
		return false
	}
	let := false
	d.opts.Write(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { let = true })).ServeHTTP(discard{}, r)
	return let
}

// discard is a response nobody reads.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// serveLogin checks a token and keeps it in an HttpOnly cookie that the
// pages, their fragments and the event stream send back. The login form's
// script sends the token as "Authorization: Bearer" (answered 204);
// without script, or from a link, ?token= is read once and answered by a
// redirect to ?next, away from the address that held it. The token is
// never logged, echoed nor put in a page.
func (d *Dashboard) serveLogin(w http.ResponseWriter, r *http.Request) {
	token, fromQuery := r.URL.Query().Get("token"), true
	if token == "" {
		token, fromQuery = bearerHeader(r), false
	}
	if token == "" {
		d.loginPage(w, r, http.StatusOK, "")
		return
	}
	check := r.Clone(r.Context())
	check.Header.Set("Authorization", "Bearer "+token)
	if !d.mayRead(check) {
		d.loginPage(w, r, http.StatusUnauthorized, "That is not a token of server.tokens with the read scope. Check it, or ask whoever runs the agent for one.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: agent.TokenCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: d.opts.SecureCookie || r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if !fromQuery {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// serveLogout forgets the token cookie.
func (d *Dashboard) serveLogout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: agent.TokenCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: d.opts.SecureCookie || r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// bearerHeader returns the token of an "Authorization: Bearer" header.
func bearerHeader(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// localPath returns p when it is a path of this server, "/" otherwise:
// a login never redirects to another site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/"
	}
	return p
}

// loginPage is the login form, with why the last attempt failed.
func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request, status int, problem string) {
	next := r.URL.Query().Get("next")
	if r.URL.Path != "/login" {
		next = r.URL.RequestURI()
	}
	d.render(w, status, "login", d.page("Sign in", loginData{Next: localPath(next), Problem: problem}))
}

// loginData is what the login form shows.
type loginData struct {
	Next, Problem string
}
