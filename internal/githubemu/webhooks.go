package githubemu

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event is a webhook event name, as sent in X-GitHub-Event.
type Event string

// Events the emulator raises itself.
const (
	EventPush              Event = "push"
	EventPullRequest       Event = "pull_request"
	EventPullRequestReview Event = "pull_request_review"
)

// event is a rendered webhook payload waiting for delivery.
type event struct {
	name    Event
	repoKey string
	owner   *user
	body    []byte
}

// webhook is a repository webhook (repoKey set) or an app webhook (app set).
type webhook struct {
	id      int64
	repoKey string
	app     *app
	url     string
	secret  string
	events  []Event
}

// target is a webhook an event goes to, with the installation to name in
// the payload (0 for repository webhooks).
type target struct {
	hook           *webhook
	installationID int64
}

// Delivery is one attempted webhook delivery.
type Delivery struct {
	// ID is the X-GitHub-Delivery GUID.
	ID string
	// HookID is the webhook's ID.
	HookID int64
	// Event is the X-GitHub-Event name.
	Event Event
	// Payload is the JSON body sent.
	Payload []byte
	// Status is the receiver's HTTP status, 0 if the request failed.
	Status int
	// Err describes a transport failure, "" on success.
	Err string
}

// AddWebhook registers a repository webhook delivering events (all events
// when none are given) to url, signed with secret. It returns the hook ID.
// Deliveries are made synchronously, after the change that caused them and
// before the call that caused them returns.
func (e *Emulator) AddWebhook(repoName, url, secret string, events ...Event) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := &webhook{id: e.state.id(), repoKey: strings.ToLower(repoName), url: url, secret: secret, events: events}
	e.hooks = append(e.hooks, h)
	return h.id
}

// AddAppWebhook registers the webhook of a GitHub App: it receives events
// of every repository owned by an account the app is installed on, with
// the "installation" object in the payload, as GitHub App webhooks do.
func (e *Emulator) AddAppWebhook(appID int64, url, secret string, events ...Event) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.state.apps[appID]
	if a == nil {
		return 0, fmt.Errorf("app %d: %w", appID, ErrNotFound)
	}
	h := &webhook{id: e.state.id(), app: a, url: url, secret: secret, events: events}
	e.hooks = append(e.hooks, h)
	return h.id, nil
}

// Deliveries returns every delivery attempted so far, oldest first.
func (e *Emulator) Deliveries() []Delivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Delivery(nil), e.sent...)
}

// Deliver sends a custom event with payload (marshalled to JSON) to the
// repository's webhooks subscribed to it. Use it for events the emulator
// does not raise itself.
func (e *Emulator) Deliver(ctx context.Context, repoName string, eventName Event, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("marshal %s payload: %w", eventName, err)
	}
	e.mu.Lock()
	rp, err := e.repoLocked(repoName)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	e.deliverAll(ctx, []event{{name: eventName, repoKey: strings.ToLower(repoName), owner: rp.owner, body: body}})
	return nil
}

// deliverAll delivers events in order; it must be called without e.mu held.
func (e *Emulator) deliverAll(ctx context.Context, events []event) {
	for _, ev := range events {
		for _, tg := range e.targetsOf(ev) {
			d := e.deliver(ctx, tg, ev)
			e.mu.Lock()
			e.sent = append(e.sent, d)
			e.mu.Unlock()
		}
	}
}

// targetsOf returns the webhooks subscribed to ev.
func (e *Emulator) targetsOf(ev event) []target {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []target
	for _, h := range e.hooks {
		if len(h.events) > 0 && !slices.Contains(h.events, ev.name) {
			continue
		}
		if h.app == nil && h.repoKey == ev.repoKey {
			out = append(out, target{hook: h})
		} else if inst := e.installationOf(h.app, ev.owner); inst != nil {
			out = append(out, target{hook: h, installationID: inst.id})
		}
	}
	return out
}

// installationOf returns the installation of a on account, if any.
func (e *Emulator) installationOf(a *app, account *user) *installation {
	for _, inst := range e.state.installations {
		if a != nil && inst.app == a && inst.account == account {
			return inst
		}
	}
	return nil
}

// deliver POSTs one event to one hook with GitHub's headers.
func (e *Emulator) deliver(ctx context.Context, tg target, ev event) Delivery {
	h := tg.hook
	if tg.installationID != 0 {
		ev.body = withInstallation(ev.body, tg.installationID)
	}
	d := Delivery{ID: newGUID(), HookID: h.id, Event: ev.name, Payload: ev.body}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(ev.body))
	if err != nil {
		d.Err = err.Error()
		return d
	}
	setDeliveryHeaders(req.Header, h, ev, d.ID)
	client := e.opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d.Status = resp.StatusCode
	return d
}

func setDeliveryHeaders(hd http.Header, h *webhook, ev event, guid string) {
	hd.Set("Content-Type", "application/json")
	hd.Set("User-Agent", "GitHub-Hookshot/githubemu")
	hd.Set("X-GitHub-Event", string(ev.name))
	hd.Set("X-GitHub-Delivery", guid)
	hd.Set("X-GitHub-Hook-ID", strconv.FormatInt(h.id, 10))
	if h.app != nil {
		hd.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
		hd.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(h.app.id, 10))
	} else {
		hd.Set("X-GitHub-Hook-Installation-Target-Type", "repository")
	}
	if h.secret != "" {
		hd.Set("X-Hub-Signature-256", "sha256="+sign(sha256.New, h.secret, ev.body))
		hd.Set("X-Hub-Signature", "sha1="+sign(sha1.New, h.secret, ev.body))
	}
}

// withInstallation adds {"installation": {"id", "node_id"}} to a payload.
func withInstallation(body []byte, id int64) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	inst, _ := json.Marshal(map[string]any{"id": id, "node_id": nodeID("Installation", id)})
	m["installation"] = inst
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// sign returns the hex HMAC of body with secret.
func sign(h func() hash.Hash, secret string, body []byte) string {
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// newGUID returns a random version-4 UUID, the form of X-GitHub-Delivery.
func newGUID() string {
	b := []byte(randomHex(16))
	b[12] = '4'
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}

// newEvent renders payload for delivery.
func newEvent(name Event, rp *repo, payload any) []event {
	body, _ := json.Marshal(payload)
	return []event{{name: name, repoKey: strings.ToLower(rp.fullName()), owner: rp.owner, body: body}}
}

type pullEventPayload struct {
	Action      string   `json:"action"`
	Number      int      `json:"number"`
	PullRequest jsonPull `json:"pull_request"`
	Before      string   `json:"before,omitempty"`
	After       string   `json:"after,omitempty"`
	Repository  jsonRepo `json:"repository"`
	Sender      jsonUser `json:"sender"`
}

// pullEvent renders a pull_request event.
func (e *Emulator) pullEvent(rp *repo, p *pull, action string, sender *user) []event {
	return newEvent(EventPullRequest, rp, pullEventPayload{
		Action: action, Number: p.number, PullRequest: e.renderPull(rp, p),
		Repository: e.renderRepo(rp), Sender: e.renderUser(sender),
	})
}

type reviewEventPayload struct {
	Action      string     `json:"action"`
	Review      jsonReview `json:"review"`
	PullRequest jsonPull   `json:"pull_request"`
	Repository  jsonRepo   `json:"repository"`
	Sender      jsonUser   `json:"sender"`
}

// reviewEvent renders a pull_request_review event. GitHub sends the review
// state in lower case in webhook payloads.
func (e *Emulator) reviewEvent(rp *repo, p *pull, rv *review, action string, sender *user) []event {
	j := e.renderReview(rp, p, rv)
	j.State = strings.ToLower(j.State)
	return newEvent(EventPullRequestReview, rp, reviewEventPayload{
		Action: action, Review: j, PullRequest: e.renderPull(rp, p),
		Repository: e.renderRepo(rp), Sender: e.renderUser(sender),
	})
}

type jsonCommitAuthor struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Username string `json:"username,omitempty"`
}

type jsonPushCommit struct {
	ID        string           `json:"id"`
	TreeID    string           `json:"tree_id"`
	Distinct  bool             `json:"distinct"`
	Message   string           `json:"message"`
	Timestamp string           `json:"timestamp"`
	URL       string           `json:"url"`
	Author    jsonCommitAuthor `json:"author"`
	Committer jsonCommitAuthor `json:"committer"`
	Added     []string         `json:"added"`
	Removed   []string         `json:"removed"`
	Modified  []string         `json:"modified"`
}

type pushEventPayload struct {
	Ref        string           `json:"ref"`
	Before     string           `json:"before"`
	After      string           `json:"after"`
	Created    bool             `json:"created"`
	Deleted    bool             `json:"deleted"`
	Forced     bool             `json:"forced"`
	BaseRef    *string          `json:"base_ref"`
	Compare    string           `json:"compare"`
	Commits    []jsonPushCommit `json:"commits"`
	HeadCommit *jsonPushCommit  `json:"head_commit"`
	Repository jsonRepo         `json:"repository"`
	Pusher     jsonCommitAuthor `json:"pusher"`
	Sender     jsonUser         `json:"sender"`
}
