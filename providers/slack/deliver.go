package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/backoff"
)

// retryBackoff spaces retries: exponential from 1s up to 30s, without
// jitter (one agent sends few messages).
var retryBackoff = backoff.Backoff{Base: time.Second, Max: 30 * time.Second}

// Limits of retries and of what is logged.
const (
	// maxRetryAfter bounds the wait when the server asks for longer.
	maxRetryAfter = 5 * time.Minute
	// maxResponse is how much of a refusal's body is logged.
	maxResponse = 200
)

// statusError is a delivery answered with a status other than 2xx.
type statusError struct {
	status int
	// retryAfter is the server's Retry-After; zero when absent.
	retryAfter time.Duration
	body       string
}

func (e *statusError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("status %d", e.status)
	}
	return fmt.Sprintf("status %d: %s", e.status, e.body)
}

// Is makes refusals (4xx other than 429) match errRefused.
func (e *statusError) Is(target error) bool {
	return target == errRefused && e.status < 500 && e.status != http.StatusTooManyRequests
}

// deliver sends d, retrying throttled, failed and unreachable deliveries
// up to maxAttempts times. It logs what it gives up on and reports
// whether ctx interrupted it (d is then not delivered).
func (n *Notifier) deliver(ctx context.Context, d delivery) (interrupted bool) {
	log := n.log.With("webhook", d.hook.name, "event", d.event, "source", d.source, "app", d.app, "env", d.env)
	for attempt := 1; ; attempt++ {
		err := n.post(ctx, d)
		switch {
		case err == nil:
			return false
		case ctx.Err() != nil:
			return true
		case errors.Is(err, errRefused):
			log.Error("webhook refused the notification; dropping it", "err", err)
			return false
		case attempt >= n.maxAttempts:
			log.Error("notification not delivered; giving up", "attempts", attempt, "err", err)
			return false
		}
		wait := retryDelay(err, attempt)
		log.Warn("notification not delivered; retrying", "attempt", attempt, "retryIn", wait, "err", err)
		select {
		case <-n.clock.After(wait):
		case <-ctx.Done():
			return true
		}
	}
}

// retryDelay is the server's Retry-After when it sent one (at most
// maxRetryAfter), else retryBackoff's delay.
func retryDelay(err error, attempt int) time.Duration {
	var se *statusError
	if errors.As(err, &se) && se.retryAfter > 0 {
		return min(se.retryAfter, maxRetryAfter)
	}
	return retryBackoff.Delay(attempt, nil)
}

// post makes one attempt. Its errors never contain the URL.
func (n *Notifier) post(ctx context.Context, d delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.hook.url, bytes.NewReader(d.body))
	if err != nil {
		return fmt.Errorf("%w: cannot build the request", errRefused)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return withoutURL(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &statusError{status: resp.StatusCode, body: strings.TrimSpace(string(body)),
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), n.clock.Now())}
}

// withoutURL strips the request URL that net/http puts in its errors.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("post: %w", ue.Err)
	}
	return err
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
