package agent

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/config"
)

// Peers are the other agents sharing this agent's journal
// (state.kubernetes), as its Ownership sees them: an action asked of this
// agent on an application another one owns is forwarded to that owner,
// and a webhook delivery this agent received is relayed to every other
// live agent. cmd/jibe adapts the coordinator (coord.Leader, coord.Shards).
type Peers interface {
	// Owner returns the identity and base URL (http://host:port) of the
	// agent owning key, an Ownership key, and whether that is this agent;
	// an empty identity when no agent owns key now.
	Owner(key string) (identity, baseURL string, self bool)
	// Others returns the base URLs of the other live agents.
	Others() []string
}

// ForwardedHeader marks an action forwarded to its owner by another
// agent, or a read asked of it (peerviews.go, peerevents.go), and
// RelayedHeader a webhook delivery relayed by another agent: neither is
// forwarded or relayed again. Each names the agent that did.
//
// RelaySignatureHeader authenticates RelayedHeader (see relaySignature):
// a delivery whose marker is missing or does not verify is a first
// delivery, relayed to the other agents. ForwardedHeader needs no
// signature of its own: actions and reads require a token before it is
// read, and all it can do is make an agent that does not own the
// application answer 409 instead of forwarding an action, or serve its own
// view of a read.
const (
	ForwardedHeader      = "X-Jibe-Forwarded-By"
	RelayedHeader        = "X-Jibe-Relayed-By"
	RelaySignatureHeader = "X-Jibe-Relay-Signature"
)

// relayKeyLabel derives the key of relay markers from the webhook secret,
// so that a marker is never a signature of some body.
const relayKeyLabel = "jibe.dev relay marker v1"

// peerTimeout bounds a forwarded action and each relayed delivery.
const peerTimeout = 30 * time.Second

// toOwner serves an action (h) here when this agent owns what it acts
// on (the application; OwnerSource for a whole source), and forwards the
// request to its owner otherwise, with every header, so that the owner
// checks the same token and journals the action under its name. The
// owner's answer is passed back as it is. When the owner is unknown, or
// the request was forwarded already (owners changing meanwhile), it
// answers 409 naming the owner, to try again.
func (a *Agent) toOwner(scope int, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.opts.Peers == nil {
			h.ServeHTTP(w, r)
			return
		}
		key := OwnerSource
		if scope != scopeSource {
			key = appIDOf(r).String()
		}
		owner, base, self := a.opts.Peers.Owner(key)
		if self {
			h.ServeHTTP(w, r)
			return
		}
		target, err := url.Parse(base)
		if owner == "" || err != nil || base == "" || r.Header.Get(ForwardedHeader) != "" {
			http.Error(w, conflictOwner(key, owner, base), http.StatusConflict)
			return
		}
		a.forward(w, r, owner, target)
	})
}

// conflictOwner says why an action cannot be carried out here.
func conflictOwner(key, owner, base string) string {
	if owner == "" {
		return "no agent owns " + key + " at the moment (agents are joining or leaving); try again in a few seconds"
	}
	return key + " is owned by agent " + owner + " (" + base + "), which could not take this action from here; try again in a few seconds"
}

// forward sends r to the owner at target and copies its answer back.
func (a *Agent) forward(w http.ResponseWriter, r *http.Request, owner string, target *url.URL) {
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			pr.Out.Header.Set(ForwardedHeader, a.self())
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			a.log.Warn("forwarding an action to the agent that owns its application failed", "owner", owner, "url", target.String(), "err", err)
			http.Error(w, "the action is for agent "+owner+" ("+target.String()+"), which could not be reached: "+err.Error()+"; try again", http.StatusBadGateway)
		},
	}
	ctx, cancel := context.WithTimeout(r.Context(), peerTimeout)
	defer cancel()
	proxy.ServeHTTP(w, r.WithContext(ctx))
}

// self names this agent in the headers it adds.
func (a *Agent) self() string {
	if k := a.config().State.Kubernetes; k != nil && k.Identity != "" {
		return k.Identity
	}
	return "jibe"
}

// relaying serves webhook deliveries with h and relays each one h
// accepted (a 2xx answer: its signature held) to the other live agents,
// raw, with its headers: each verifies the signature itself and acts on
// what it owns. A delivery relayed by another agent, as its marker proves,
// is not relayed again.
func (a *Agent) relaying(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.opts.Peers == nil || r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		limit := a.config().Server.MaxWebhookBodyBytes
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		if err != nil || int64(len(body)) > limit { // h refuses it
			h.ServeHTTP(w, r)
			return
		}
		relayed := a.relayedByPeer(r, body)
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if !relayed && rec.status/100 == 2 {
			go a.relay(r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body)
		}
	})
}

// relayedByPeer reports whether r carries a marker of a delivery relayed
// by another agent that verifies; a marker that does not is logged and
// ignored.
func (a *Agent) relayedByPeer(r *http.Request, body []byte) bool {
	by := r.Header.Get(RelayedHeader)
	if by == "" && r.Header.Get(RelaySignatureHeader) == "" {
		return false
	}
	want := relaySignature(a.opts.WebhookSecret, by, r.URL.Path, r.URL.RawQuery, r.Header, body)
	if want != "" && hmac.Equal([]byte(r.Header.Get(RelaySignatureHeader)), []byte(want)) {
		return true
	}
	a.log.Warn("a webhook delivery's relay marker does not verify (not signed with server.webhookSecret by another agent); relaying it as a first delivery",
		"path", r.URL.Path, "remote", r.RemoteAddr)
	return false
}

// relaySignature returns the marker of a delivery relayed by agent by:
// "sha256=" and the hex HMAC-SHA256, keyed by a key derived from the
// webhook secret, of by, the delivery's path, query, delivery IDs and
// body digest. It returns "" without a secret.
func relaySignature(secret config.Secret, by, path, query string, header http.Header, body []byte) string {
	if secret.Reveal() == "" {
		return ""
	}
	derive := hmac.New(sha256.New, []byte(secret.Reveal()))
	derive.Write([]byte(relayKeyLabel))
	mac := hmac.New(sha256.New, derive.Sum(nil))
	digest := sha256.Sum256(body)
	for _, part := range []string{by, path, query, header.Get("X-GitHub-Delivery"), header.Get("X-Jibe-Delivery"), hex.EncodeToString(digest[:])} {
		mac.Write([]byte(strconv.Itoa(len(part)) + ":" + part + ";"))
	}
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// relay posts a delivery to every other live agent, marked as relayed by
// this one.
func (a *Agent) relay(path, query string, header http.Header, body []byte) {
	header.Set(RelayedHeader, a.self())
	header.Del(RelaySignatureHeader)
	if sig := relaySignature(a.opts.WebhookSecret, a.self(), path, query, header, body); sig != "" {
		header.Set(RelaySignatureHeader, sig)
	}
	header.Del("Content-Length")
	for _, base := range a.opts.Peers.Others() {
		u := strings.TrimSuffix(base, "/") + path
		if query != "" {
			u += "?" + query
		}
		if err := postRelay(u, header, body); err != nil {
			a.log.Warn("relaying a webhook delivery to another agent failed; it finds the change at its next poll", "url", u, "err", err)
		}
	}
}

// postRelay posts one relayed delivery.
func postRelay(u string, header http.Header, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return &relayError{status: resp.Status}
	}
	return nil
}

type relayError struct{ status string }

func (e *relayError) Error() string { return "answered " + e.status }

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap gives http.ResponseController the writer underneath.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
