package sources

import (
	"context"
	"log/slog"
	"time"

	"github.com/jibe-dev/jibe/internal/backoff"
)

// Status is the state of one polled repository and branch, for the API
// and the dashboard.
type Status struct {
	// URL is the repository URL (without any embedded password).
	URL string
	// Branch is the branch polled.
	Branch string
	// Sources are the configured sources polled through it.
	Sources []string
	// LastPoll is when the last poll finished, zero before the first.
	LastPoll time.Time
	// LastSuccess is when the last successful poll finished, zero before
	// the first.
	LastSuccess time.Time
	// LastCommit is the last commit reported, "" before the first.
	LastCommit string
	// LastError is the last poll's error, nil when it succeeded. Use
	// Stalling to tell errors that need someone's attention.
	LastError error
	// ConsecutiveFailures counts failed polls since the last success.
	ConsecutiveFailures int
	// NextPoll is when the next poll is due (a trigger can make it sooner).
	NextPoll time.Time
	// LastDuration is how long the last poll took, on the source's clock.
	LastDuration time.Duration
}

func (p *poller) currentStatus() Status {
	p.statusMu.Lock()
	defer p.statusMu.Unlock()
	s := p.status
	s.Sources = append([]string(nil), s.Sources...)
	return s
}

// pollAndRecord polls and records the outcome in the status and the log.
// A poll cut short by shutdown is not recorded as a failure.
func (p *poller) pollAndRecord(ctx context.Context, triggered bool) ([]Update, error) {
	start := p.env.clock.Now()
	updates, err := p.poll(ctx, triggered)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	p.statusMu.Lock()
	s := &p.status
	s.LastPoll, s.LastError = p.env.clock.Now(), err
	s.LastDuration = s.LastPoll.Sub(start)
	if err != nil {
		s.ConsecutiveFailures++
	} else {
		s.ConsecutiveFailures, s.LastSuccess = 0, s.LastPoll
	}
	if len(updates) > 0 && updates[0].Commit.SHA != "" {
		s.LastCommit = updates[0].Commit.SHA
	}
	failures := s.ConsecutiveFailures
	p.statusMu.Unlock()
	p.logPoll(updates, err, failures)
	if f := p.env.onStatus.Load(); f != nil {
		(*f)(p.currentStatus())
	}
	return updates, err
}

// logPoll logs new commits and failures; unchanged polls are silent.
// Rewritten or deleted branches are warnings: someone should know.
func (p *poller) logPoll(updates []Update, err error, failures int) {
	log := p.env.log.With("url", redactURL(p.url), "branch", p.branch)
	for _, u := range updates {
		level := slog.LevelInfo
		if u.Transition >= TransitionRewritten {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "new revision", "source", u.Source, "revision", u.Commit.SHA,
			"previous", u.Previous, "transition", u.Transition.String(), "apps", len(u.Apps), "changed", len(u.Changed()))
	}
	if err != nil {
		log.Warn("poll failed", "error", err, "failures", failures, "stalling", Stalling(err))
	}
}

// schedule returns the delay before the next poll and records when it is due.
func (p *poller) schedule() time.Duration {
	p.statusMu.Lock()
	defer p.statusMu.Unlock()
	d := pollBackoff(p.interval, p.env.maxBackoff, p.env.jitter).Delay(p.status.ConsecutiveFailures, nil)
	p.status.NextPoll = p.env.clock.Now().Add(d)
	return d
}

// pollBackoff spaces the polls of a repository: its interval, doubled per
// consecutive failure after the first up to limit (never less than the
// interval), spread by up to ±jitter so that pollers started together do
// not keep hitting the server in the same instant.
func pollBackoff(interval, limit time.Duration, jitter float64) backoff.Backoff {
	return backoff.Backoff{Base: interval, Max: limit, Jitter: jitter}
}
