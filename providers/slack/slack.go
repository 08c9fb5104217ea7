// Package slack sends rollout notifications to Slack-compatible incoming
// webhooks (Slack, Mattermost, Rocket.Chat): a rollout's start, an
// approval gate it waits at, its success, failure and rollback.
//
// Notify never blocks the engine: messages go through a bounded queue
// that Run delivers, retrying throttled and failed deliveries. Webhook
// URLs are secrets: logs name webhooks by their configured name only.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
)

// Defaults of Options.
const (
	DefaultQueueSize   = 256
	DefaultMaxAttempts = 5
	defaultTimeout     = 10 * time.Second
	// onceMemory is how many sent-once keys are remembered.
	onceMemory = 4096
)

// Options configure a Notifier. The zero value is usable.
type Options struct {
	// HTTPClient posts the messages; a client with a 10s timeout when nil.
	HTTPClient *http.Client
	// Logger receives delivery failures and dropped messages; discarded
	// when nil.
	Logger *slog.Logger
	// Link returns the address where people see an application, by its
	// source and name (the agent's UI); messages have no link when nil or
	// when it returns "".
	Link func(app reconcile.AppID) string
	// Clock waits between attempts and reads Retry-After dates; the
	// wall clock when nil.
	Clock clock.Clock
	// QueueSize bounds the messages waiting for delivery; DefaultQueueSize
	// when zero.
	QueueSize int
	// MaxAttempts bounds the attempts per message; DefaultMaxAttempts when
	// zero.
	MaxAttempts int
}

// hook is a configured webhook with its URL resolved.
type hook struct {
	name   string
	url    string
	events []config.Event
}

// wants reports whether the webhook is sent the event: all events when
// its configuration lists none.
func (h *hook) wants(ev config.Event) bool {
	return len(h.events) == 0 || slices.Contains(h.events, ev)
}

// LogValue names the webhook, so that logging one never shows its URL.
func (h *hook) LogValue() slog.Value { return slog.StringValue(h.name) }

// Notifier sends rollout events to webhooks. It is safe for concurrent
// use.
type Notifier struct {
	hooks       []*hook
	client      *http.Client
	log         *slog.Logger
	link        func(reconcile.AppID) string
	clock       clock.Clock
	maxAttempts int
	q           *queue
	once        onceSet
}

// New returns a Notifier for the webhooks, resolving their URLs now. It
// fails when a URL cannot be resolved or is not an http(s) URL, or when a
// webhook lists an unknown event; errors name the webhook, never its URL.
func New(hooks []config.SlackWebhook, opts Options) (*Notifier, error) {
	n := &Notifier{client: opts.HTTPClient, log: opts.Logger, link: opts.Link, clock: opts.Clock, maxAttempts: opts.MaxAttempts,
		q: newQueue(orDefault(opts.QueueSize, DefaultQueueSize)), once: onceSet{max: onceMemory}}
	n.maxAttempts = orDefault(n.maxAttempts, DefaultMaxAttempts)
	if n.client == nil {
		n.client = &http.Client{Timeout: defaultTimeout}
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.clock == nil {
		n.clock = clock.RealClock{}
	}
	for _, c := range hooks {
		h, err := newHook(c)
		if err != nil {
			return nil, err
		}
		n.hooks = append(n.hooks, h)
	}
	return n, nil
}

func newHook(c config.SlackWebhook) (*hook, error) {
	for _, ev := range c.Events {
		if !slices.Contains(config.Events, ev) {
			return nil, fmt.Errorf("slack webhook %s: %q is not an event", c.Name, ev)
		}
	}
	secret, err := c.URL.Resolve()
	if err != nil {
		return nil, fmt.Errorf("slack webhook %s: url: %w", c.Name, err)
	}
	// The parse error would quote the URL: it is not wrapped.
	u, err := url.Parse(secret.Reveal())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("slack webhook %s: url (from %s) is not an http(s) URL", c.Name, c.URL)
	}
	return &hook{name: c.Name, url: secret.Reveal(), events: c.Events}, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Notify queues the message of e for every webhook that wants it, and
// returns at once. Events that are not notified are ignored, as are
// repeats (an approval gate polled again, a failure reported twice). When
// the queue is full, the oldest message is dropped with a warning.
func (n *Notifier) Notify(e reconcile.Event) {
	ev, ok := notifiable(e)
	if !ok || !n.once.first(onceKey(ev, e)) {
		return
	}
	app, env := e.App, e.Env
	if e.Rollout != nil {
		app, env = e.Rollout.AppID(), e.Rollout.Env
	}
	var link string
	if n.link != nil {
		link = n.link(app)
	}
	body, err := json.Marshal(render(ev, e, link))
	if err != nil {
		n.log.Error("cannot encode notification", "event", string(ev), "source", app.Source, "app", app.Name, "err", err)
		return
	}
	for _, h := range n.hooks {
		if !h.wants(ev) {
			continue
		}
		d := delivery{hook: h, body: body, event: string(ev), source: app.Source, app: app.Name, env: env}
		if old := n.q.push(d); old != nil {
			n.log.Warn("notification queue full: dropped the oldest notification",
				"webhook", old.hook.name, "event", old.event, "source", old.source, "app", old.app, "env", old.env)
		}
	}
}

// Run delivers queued messages until ctx is done. A delivery interrupted
// by ctx goes back to the queue, for Flush. Run always returns a non-nil
// error: ctx's.
func (n *Notifier) Run(ctx context.Context) error {
	for {
		if d, ok := n.q.pop(); ok {
			if interrupted := n.deliver(ctx, d); interrupted {
				n.q.requeue(d)
				return ctx.Err()
			}
			n.q.done()
			continue
		}
		select {
		case <-n.q.ready:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Flush delivers every queued message and waits for deliveries in
// progress, for shutdown. It returns ctx's error when ctx ends first.
func (n *Notifier) Flush(ctx context.Context) error {
	for {
		for d, ok := n.q.pop(); ok; d, ok = n.q.pop() {
			if interrupted := n.deliver(ctx, d); interrupted {
				n.q.requeue(d)
				return ctx.Err()
			}
			n.q.done()
		}
		idle, changed := n.q.idle()
		if idle {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// onceSet remembers the most recent keys seen.
type onceSet struct {
	mu    sync.Mutex
	max   int
	seen  map[string]bool
	order []string
}

// first reports whether key is seen for the first time, and remembers it.
func (s *onceSet) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[key] {
		return false
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if len(s.order) >= s.max {
		delete(s.seen, s.order[0])
		s.order = s.order[1:]
	}
	s.seen[key] = true
	s.order = append(s.order, key)
	return true
}

// errRefused marks answers that retrying cannot change.
var errRefused = errors.New("refused")
