package sources

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/config"
)

// Defaults of WebhookOptions.
const (
	// DefaultMaxWebhookBody is GitHub's own cap on a delivery's payload.
	DefaultMaxWebhookBody = config.DefaultMaxWebhookBodyBytes
	DefaultReplayWindow   = 24 * time.Hour
	// maxRemembered bounds the replay cache: a delivery takes up to two
	// entries (its ID and its body's digest), about 100 bytes each.
	maxRemembered = 20000
)

// Triggerer starts an immediate poll of a repository: Git implements it.
type Triggerer interface {
	// Trigger polls repo (a URL or GitHub "owner/name") on branch ("" for
	// every branch) and returns how many pollers it woke.
	Trigger(repo, branch string) int
}

var _ Triggerer = (*Git)(nil)

// WebhookOptions configures a Webhook.
type WebhookOptions struct {
	// Secret signs deliveries (config.Server.WebhookSecret). Required.
	Secret config.Secret
	// Trigger receives the repositories to poll. Required.
	Trigger Triggerer
	// OnHint receives pull request and review events for later use; nil
	// drops them. It is called from the HTTP handler and must not block.
	OnHint func(Hint)
	// OnArtifact receives the image or repository an "artifact pushed"
	// delivery names (Artifact) and reports whether an application
	// follows it; nil refuses those deliveries. It is called from the
	// HTTP handler and must not block.
	OnArtifact func(ref string) bool
	// MaxBodyBytes bounds a delivery's body. Default DefaultMaxWebhookBody.
	MaxBodyBytes int64
	// ReplayWindow is how long delivery IDs and the digests of signed
	// bodies are remembered to refuse replays. Default DefaultReplayWindow.
	ReplayWindow time.Duration
	// Clock dates delivery IDs. Default the wall clock.
	Clock clock.Clock
	// Logger receives accepted and rejected deliveries. Default
	// slog.Default().
	Logger *slog.Logger
}

// Webhook receives push notifications and turns them into immediate polls.
// A delivery is only a hint: the poll that follows fetches what is really
// on the branch.
//
// Both endpoints answer:
//   - 202 Accepted when the delivery is valid (whether or not a source
//     polls the repository), 200 to GitHub's ping;
//   - 401 Unauthorized without a signature (or token);
//   - 403 Forbidden when the signature does not match;
//   - 408 Request Timeout when the body does not arrive in time (the
//     server's read timeout);
//   - 409 Conflict for a delivery ID, or a signed body, seen within the
//     replay window;
//   - 413 Request Entity Too Large above MaxBodyBytes;
//   - 400 Bad Request for a body that is not the expected JSON;
//   - 405 Method Not Allowed for anything but POST.
type Webhook struct {
	opts WebhookOptions
	seen *replayCache
}

// NewWebhook returns a Webhook, or an error when the secret or the
// triggerer is missing.
func NewWebhook(opts WebhookOptions) (*Webhook, error) {
	if opts.Secret.Reveal() == "" {
		return nil, errors.New("webhooks need server.webhookSecret")
	}
	if opts.Trigger == nil {
		return nil, errors.New("webhooks need a triggerer")
	}
	opts.MaxBodyBytes = positive(opts.MaxBodyBytes, DefaultMaxWebhookBody)
	opts.ReplayWindow = positive(opts.ReplayWindow, DefaultReplayWindow)
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.OnHint == nil {
		opts.OnHint = func(Hint) {}
	}
	return &Webhook{opts: opts, seen: newReplayCache(maxRemembered)}, nil
}

// GitHub returns the handler of GitHub deliveries (push, pull_request,
// pull_request_review, ping), signed in X-Hub-Signature-256.
func (h *Webhook) GitHub() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := h.receive(w, r, r.Header.Get("X-GitHub-Delivery"), "github")
		if ok {
			h.dispatchGitHub(w, d, r.Header.Get("X-GitHub-Event"))
		}
	})
}

// Generic returns the handler of deliveries from other systems (CI jobs,
// other Git hosts): a JSON body {"repository": URL or "owner/name",
// "branch": optional}, authenticated by an X-Hub-Signature-256 HMAC of the
// body or by the secret itself in X-Jibe-Token. An optional
// X-Jibe-Delivery ID protects against replays.
func (h *Webhook) Generic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := h.receive(w, r, r.Header.Get("X-Jibe-Delivery"), "generic")
		if !ok {
			return
		}
		var body struct{ Repository, Branch string }
		if json.Unmarshal(d.body, &body) != nil || body.Repository == "" {
			h.reject(w, d, http.StatusBadRequest, "body is not {\"repository\": ...}")
			return
		}
		h.trigger(w, d, body.Repository, body.Branch)
	})
}

// artifactPayload is the body of an "artifact pushed" delivery.
type artifactPayload struct {
	// Image is the pushed image, ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY[:TAG].
	Image string `json:"image"`
	// Repository is the repository, as a registry/repository reference
	// or a repository name alone; used when Image is empty.
	Repository string `json:"repository"`
	// Tag is the pushed tag, for the log only: the watch reads the
	// registry and applies each artifact's policy.
	Tag string `json:"tag"`
}

// Artifact returns the handler of "artifact pushed" deliveries, which a
// CI job sends after pushing an image: a JSON body {"image":
// "ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG"} or
// {"repository": "REPOSITORY" or its full reference, "tag": "TAG"},
// authenticated like Generic's. The artifact watch then reads that
// repository at once (OnArtifact). It answers as Generic does, and 404
// when the agent has no artifact watch.
func (h *Webhook) Artifact() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := h.receive(w, r, r.Header.Get("X-Jibe-Delivery"), "artifact")
		if !ok {
			return
		}
		if h.opts.OnArtifact == nil {
			h.reject(w, d, http.StatusNotFound, "the agent has no artifact watch (sources[].artifactUpdates)")
			return
		}
		var p artifactPayload
		_ = json.Unmarshal(d.body, &p) // a body that is not the payload names nothing
		ref := p.Image
		if ref == "" {
			ref = p.Repository
		}
		if ref == "" || len(ref) > 512 || strings.ContainsAny(ref, " \t\n") {
			h.reject(w, d, http.StatusBadRequest, "body is not {\"image\": ...} or {\"repository\": ..., \"tag\": ...}")
			return
		}
		watched := h.opts.OnArtifact(ref)
		d.log.Info("webhook artifact pushed", "ref", ref, "tag", p.Tag, "watched", watched)
		w.WriteHeader(http.StatusAccepted)
	})
}

// delivery is a received, authenticated request.
type delivery struct {
	id, endpoint, remote string
	body                 []byte
	log                  *slog.Logger
}

// receive reads and authenticates a delivery, answering the request
// itself when it is refused.
func (h *Webhook) receive(w http.ResponseWriter, r *http.Request, id, endpoint string) (delivery, bool) {
	d := delivery{id: id, endpoint: endpoint, remote: r.RemoteAddr}
	d.log = h.opts.Logger.With("endpoint", endpoint, "delivery", id, "remote", r.RemoteAddr)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, d, http.StatusMethodNotAllowed, "method "+r.Method)
		return d, false
	}
	body, status, reason := h.readBody(w, r)
	if status == 0 {
		d.body = body
		status, reason = h.authenticate(r, body, endpoint != "github")
	}
	if status == 0 && !h.seen.add(replayKeys(r, id, body), h.opts.Clock.Now(), h.opts.ReplayWindow) {
		status, reason = http.StatusConflict, "delivery ID or signed body already received (replay)"
	}
	if status != 0 {
		h.reject(w, d, status, reason)
		return d, false
	}
	return d, true
}

// readBody reads a delivery's body, at most MaxBodyBytes. It returns 0
// when the body was read, else the status to answer and why.
func (h *Webhook) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge, "body larger than the limit"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, http.StatusRequestTimeout, "the body did not arrive within the server's read timeout"
	case err != nil:
		return nil, http.StatusBadRequest, "reading the body failed"
	}
	return body, 0, ""
}

// replayKeys are what identifies an authenticated delivery for replay
// protection: its delivery ID, when it has one, and the digest of its body
// when the body is signed. The ID is not signed, so an eavesdropper could
// change or drop it; the signed body cannot change without the secret. A
// body authenticated by the X-Jibe-Token header is not signed: whoever
// holds the token can write any body, so repeating one proves nothing.
func replayKeys(r *http.Request, id string, body []byte) []string {
	var keys []string
	if id != "" {
		keys = append(keys, "delivery:"+id)
	}
	if r.Header.Get("X-Hub-Signature-256") != "" {
		sum := sha256.Sum256(body)
		keys = append(keys, "body:"+hex.EncodeToString(sum[:]))
	}
	return keys
}

// authenticate checks the body's signature (or, when allowed, the token
// header). It returns 0 when the request is authentic, else the status
// to answer and why.
func (h *Webhook) authenticate(r *http.Request, body []byte, allowToken bool) (int, string) {
	secret := []byte(h.opts.Secret.Reveal())
	if sig := r.Header.Get("X-Hub-Signature-256"); sig != "" {
		if !validSignature(secret, body, sig) {
			return http.StatusForbidden, "signature does not match"
		}
		return 0, ""
	}
	if tok := r.Header.Get("X-Jibe-Token"); allowToken && tok != "" {
		a, b := sha256.Sum256([]byte(tok)), sha256.Sum256(secret)
		if !hmac.Equal(a[:], b[:]) {
			return http.StatusForbidden, "token does not match"
		}
		return 0, ""
	}
	return http.StatusUnauthorized, "unsigned delivery"
}

// validSignature checks "sha256=<hex HMAC of body>" in constant time.
func validSignature(secret, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// reject answers a refused delivery and logs why, without any secret or
// signature.
func (h *Webhook) reject(w http.ResponseWriter, d delivery, status int, reason string) {
	d.log.Warn("webhook rejected", "status", status, "reason", reason)
	http.Error(w, reason, status)
}

// dispatchGitHub handles one authenticated GitHub event.
func (h *Webhook) dispatchGitHub(w http.ResponseWriter, d delivery, event string) {
	log := d.log.With("event", event)
	switch event {
	case "ping":
		log.Info("webhook ping")
		w.WriteHeader(http.StatusOK)
	case "push":
		h.push(w, d)
	case "pull_request", "pull_request_review":
		hint, err := parseHint(event, d.body)
		if err != nil {
			h.reject(w, d, http.StatusBadRequest, "malformed "+event+" payload")
			return
		}
		hint.Delivery = d.id
		log.Info("webhook hint", "repository", hint.Repository, "number", hint.Number, "action", hint.Action)
		h.opts.OnHint(hint)
		w.WriteHeader(http.StatusAccepted)
	default:
		log.Debug("webhook event ignored")
		w.WriteHeader(http.StatusAccepted)
	}
}

// pushPayload is the part of GitHub's push event Jibe reads.
type pushPayload struct {
	Ref        string `json:"ref"`
	After      string `json:"after"`
	Repository struct {
		FullName string `json:"full_name"`
		CloneURL string `json:"clone_url"`
		SSHURL   string `json:"ssh_url"`
	} `json:"repository"`
}

// push triggers a poll of the pushed branch's repository.
func (h *Webhook) push(w http.ResponseWriter, d delivery) {
	var p pushPayload
	if json.Unmarshal(d.body, &p) != nil || p.Repository.FullName == "" {
		h.reject(w, d, http.StatusBadRequest, "malformed push payload")
		return
	}
	branch, isBranch := strings.CutPrefix(p.Ref, "refs/heads/")
	if !isBranch {
		d.log.Debug("webhook push of a tag ignored", "ref", p.Ref)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	n := h.opts.Trigger.Trigger(p.Repository.FullName, branch)
	for _, url := range []string{p.Repository.CloneURL, p.Repository.SSHURL} {
		if n == 0 && url != "" {
			n = h.opts.Trigger.Trigger(url, branch)
		}
	}
	d.log.Info("webhook push", "repository", p.Repository.FullName, "branch", branch, "revision", p.After, "polls", n)
	w.WriteHeader(http.StatusAccepted)
}

// trigger polls repo on branch and answers 202.
func (h *Webhook) trigger(w http.ResponseWriter, d delivery, repo, branch string) {
	n := h.opts.Trigger.Trigger(repo, branch)
	d.log.Info("webhook trigger", "repository", repo, "branch", branch, "polls", n)
	w.WriteHeader(http.StatusAccepted)
}

// replayCache remembers delivery IDs and body digests for a while, in
// bounded memory: entries older than the window are forgotten, and at
// capacity the oldest go first.
type replayCache struct {
	mu    sync.Mutex
	max   int
	seen  map[string]time.Time
	order []string
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: map[string]time.Time{}}
}

// add records keys at now and reports whether none of them was seen
// within window. Nothing is recorded when one was.
func (c *replayCache) add(keys []string, now time.Time, window time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evict(func() bool { return now.Sub(c.seen[c.order[0]]) > window })
	for _, k := range keys {
		if _, dup := c.seen[k]; dup {
			return false
		}
	}
	c.evict(func() bool { return len(c.order)+len(keys) > c.max })
	for _, k := range keys {
		c.seen[k] = now
		c.order = append(c.order, k)
	}
	return true
}

// evict forgets the oldest entries while old says so.
func (c *replayCache) evict(old func() bool) {
	for len(c.order) > 0 && old() {
		delete(c.seen, c.order[0])
		c.order = c.order[1:]
	}
}

// len returns the number of entries remembered.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
