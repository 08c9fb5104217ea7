// Package github reports to GitHub: commit statuses for each application
// and environment, posted in the background so that GitHub's latency, outages
// and rate limits never slow a rollout.
package github

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/internal/backoff"
)

// State is a commit status state.
type State string

// The commit status states GitHub accepts.
const (
	StatePending State = "pending"
	StateSuccess State = "success"
	StateFailure State = "failure"
	StateError   State = "error"
)

// MaxDescription is the longest description GitHub accepts, in characters.
const MaxDescription = 140

// Status is a commit status to post.
type Status struct {
	// Owner and Repo name the repository.
	Owner, Repo string
	// SHA is the commit.
	SHA string
	// Context identifies the status, e.g. jibe/checkout/production.
	Context string
	// State is the status's state.
	State State
	// Description is one line; longer ones are cut to MaxDescription.
	Description string
	// TargetURL links to details, e.g. the agent's dashboard. Optional.
	TargetURL string
}

// key identifies the statuses that replace one another: GitHub keeps the
// latest per commit and context.
type key struct{ owner, repo, sha, context string }

func (s *Status) key() key {
	return key{s.Owner, s.Repo, s.SHA, strings.ToLower(s.Context)}
}

// StatusContext fills a status context format ("jibe/{app}/{env}") in:
// {source}, {app} and {env} are replaced.
func StatusContext(format, source, app, env string) string {
	return strings.NewReplacer("{source}", source, "{app}", app, "{env}", env).Replace(format)
}

// Truncate cuts s to at most n characters, ending with "…" when cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// statusService is the part of go-github's RepositoriesService that
// Reporter uses.
type statusService interface {
	CreateStatus(ctx context.Context, owner, repo, ref string, status *github.RepoStatus) (*github.RepoStatus, *github.Response, error)
}

var _ statusService = (*github.RepositoriesService)(nil)

// DefaultBackoff spaces retries of failed posts: from 1s up to 5m, spread
// by ±50% so that many failing statuses do not retry in step.
var DefaultBackoff = backoff.Backoff{Base: time.Second, Max: 5 * time.Minute, Jitter: 0.5}

// ReporterOptions configures a Reporter.
type ReporterOptions struct {
	// Logger receives one line per status that could not be posted.
	// Default slog.Default().
	Logger *slog.Logger
	// Backoff spaces retries of failed posts. Default DefaultBackoff.
	Backoff backoff.Backoff
	// Clock times retries and rate-limit waits. Default the wall clock.
	Clock clock.Clock
}

// Reporter posts commit statuses in the background. Post never blocks: it
// queues the status, replacing any queued status of the same commit and
// context (GitHub only shows the latest), and Run posts the queue with
// retries, waiting out rate limits. A status identical to the last one
// posted is not posted again.
type Reporter struct {
	client statusService
	opts   ReporterOptions
	rand   *rand.Rand

	mu      sync.Mutex
	queue   []key
	pending map[key]Status
	posted  map[key]Status
	wake    chan struct{}

	metrics statusMetrics
}

// statusMetrics count what becomes of the statuses posted to a Reporter.
type statusMetrics struct {
	queued, posted, dropped prometheus.Counter
}

func newStatusMetrics() statusMetrics {
	return statusMetrics{
		queued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jibe_github_statuses_queued_total",
			Help: "Commit statuses queued for posting to GitHub (a queued status of the same commit and context is replaced, not posted).",
		}),
		posted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jibe_github_statuses_posted_total",
			Help: "Commit statuses GitHub accepted.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jibe_github_statuses_dropped_total",
			Help: "Commit statuses GitHub refused for good (422: invalid), dropped without retry; the log names each.",
		}),
	}
}

// Collectors returns the reporter's metrics, for a Prometheus registry:
// statuses queued, posted and dropped, and the number pending.
func (r *Reporter) Collectors() []prometheus.Collector {
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jibe_github_statuses_pending",
		Help: "Commit statuses waiting to be posted to GitHub (retrying or waiting out a rate limit included).",
	}, func() float64 { return float64(r.Pending()) })
	return []prometheus.Collector{r.metrics.queued, r.metrics.posted, r.metrics.dropped, pending}
}

// NewReporter returns a Reporter posting through client.
func NewReporter(client *github.Client, opts ReporterOptions) *Reporter {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Backoff == (backoff.Backoff{}) {
		opts.Backoff = DefaultBackoff
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Reporter{
		client: client.Repositories, opts: opts, rand: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		pending: map[key]Status{}, posted: map[key]Status{}, wake: make(chan struct{}, 1), metrics: newStatusMetrics(),
	}
}

// Post queues s. It never blocks.
func (r *Reporter) Post(s Status) {
	s.Description = Truncate(s.Description, MaxDescription)
	k := s.key()
	r.metrics.queued.Inc()
	r.mu.Lock()
	if _, queued := r.pending[k]; !queued {
		r.queue = append(r.queue, k)
	}
	r.pending[k] = s
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Pending returns the number of statuses waiting to be posted.
func (r *Reporter) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// Run posts queued statuses until ctx is done. It returns ctx's error.
func (r *Reporter) Run(ctx context.Context) error {
	for {
		if err := r.Flush(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
		}
	}
}

// Flush posts every queued status, waiting out retries and rate limits, and
// returns nil once the queue is empty, or ctx's error. The agent calls it on
// shutdown, after Run has returned, with a deadline.
func (r *Reporter) Flush(ctx context.Context) error {
	failures := 0
	for {
		s, ok := r.next()
		if !ok {
			return nil
		}
		wait := r.post(ctx, s, &failures)
		if wait == 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.opts.Clock.After(wait):
		}
	}
}

// next returns the oldest queued status that is not already posted.
func (r *Reporter) next() (Status, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.queue) > 0 {
		k := r.queue[0]
		s := r.pending[k]
		if r.posted[k] != s {
			return s, true
		}
		r.dequeue(k, s)
	}
	return Status{}, false
}

// dequeue removes k from the queue if s is still its latest status.
func (r *Reporter) dequeue(k key, s Status) {
	if r.pending[k] != s {
		return // replaced while it was being posted: keep the newer one
	}
	delete(r.pending, k)
	for i, q := range r.queue {
		if q == k {
			r.queue = append(r.queue[:i], r.queue[i+1:]...)
			break
		}
	}
}

// post posts s and returns how long to wait before the next post: zero on
// success or when s is dropped, a backoff or rate-limit wait otherwise.
func (r *Reporter) post(ctx context.Context, s Status, failures *int) time.Duration {
	_, _, err := r.client.CreateStatus(ctx, s.Owner, s.Repo, s.SHA, &github.RepoStatus{
		State: github.String(string(s.State)), Context: github.String(s.Context),
		Description: github.String(s.Description), TargetURL: nonEmpty(s.TargetURL),
	})
	log := r.opts.Logger.With("repo", s.Owner+"/"+s.Repo, "sha", s.SHA, "context", s.Context)
	switch wait, retry := r.retryAfter(err, failures); {
	case err == nil:
		*failures = 0
		r.metrics.posted.Inc()
		r.done(s)
		return 0
	case !retry:
		log.Error("GitHub refused a commit status; dropping it", "err", err)
		r.metrics.dropped.Inc()
		r.done(s)
		return 0
	default:
		log.Warn("posting a commit status failed; will retry", "err", err, "retry_in", wait)
		return wait
	}
}

// retryAfter classifies a post error: how long to wait, and whether to
// retry at all.
func (r *Reporter) retryAfter(err error, failures *int) (time.Duration, bool) {
	var rate *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	var resp *github.ErrorResponse
	switch {
	case err == nil:
		return 0, false
	case errors.As(err, &rate):
		return max(rate.Rate.Reset.Time.Sub(r.opts.Clock.Now()), time.Second), true
	case errors.As(err, &abuse):
		if d := abuse.GetRetryAfter(); d > 0 {
			return d, true
		}
		return time.Minute, true
	case errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusUnprocessableEntity:
		return 0, false // invalid: retrying the same status cannot help
	}
	*failures++
	return r.opts.Backoff.Delay(*failures, r.rand), true
}

// maxPosted bounds the memory of posted statuses; past it the memory is
// cleared, which at worst re-posts an identical status once.
const maxPosted = 10_000

func (r *Reporter) done(s Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.posted) >= maxPosted {
		clear(r.posted)
	}
	r.posted[s.key()] = s
	r.dequeue(s.key(), s)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
