package githubemu

import (
	"net/http"
	"strconv"
	"time"
)

// rateWindow is the length of GitHub's primary rate-limit window.
const rateWindow = time.Hour

// anonymousLimit is GitHub's hourly limit for unauthenticated requests.
const anonymousLimit = 60

// SecondaryLimit makes the emulator refuse requests with GitHub's
// secondary rate limit answer.
type SecondaryLimit struct {
	// Requests is how many of the next requests are refused; at least 1.
	Requests int
	// RetryAfter is sent in the Retry-After header; 60s when zero.
	RetryAfter time.Duration
	// TooManyRequests answers 429 instead of GitHub's usual 403.
	TooManyRequests bool
}

func (s *SecondaryLimit) status() int {
	if s.TooManyRequests {
		return http.StatusTooManyRequests
	}
	return http.StatusForbidden
}

// bucket is one identity's primary rate-limit window.
type bucket struct {
	used  int
	reset time.Time
}

// limiter holds primary and secondary rate-limit state; guarded by Emulator.mu.
type limiter struct {
	limit        int
	buckets      map[string]*bucket
	injected     []*SecondaryLimit
	writesPerMin int                    // 0: no content-creation limit
	writes       map[string][]time.Time // bucket → recent write times
}

func newLimiter(limit int) *limiter {
	return &limiter{limit: limit, buckets: map[string]*bucket{}, writes: map[string][]time.Time{}}
}

// bucketAt returns the bucket's window at now, starting a new one when the
// previous window has reset.
func (l *limiter) bucketAt(key string, now time.Time) *bucket {
	b, ok := l.buckets[key]
	if !ok || !now.Before(b.reset) {
		b = &bucket{reset: now.Add(rateWindow).Truncate(time.Second)}
		l.buckets[key] = b
	}
	return b
}

func (l *limiter) limitOf(key string) int {
	if key == "anonymous" {
		return anonymousLimit
	}
	return l.limit
}

// exhausted reports whether the bucket has no requests left.
func (l *limiter) exhausted(key string, now time.Time) bool {
	return l.bucketAt(key, now).used >= l.limitOf(key)
}

// count charges one request to the bucket.
func (l *limiter) count(key string, now time.Time) {
	l.bucketAt(key, now).used++
}

// headers sets X-RateLimit-* for the bucket.
func (l *limiter) headers(h http.Header, key string, now time.Time) {
	b := l.bucketAt(key, now)
	limit := l.limitOf(key)
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-b.used, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(b.reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(b.used))
	h.Set("X-RateLimit-Resource", "core")
}

// secondary returns the secondary limit refusing this request, if any:
// an injected one, or the content-creation limit for writes.
func (l *limiter) secondary(key, method string, now time.Time) *SecondaryLimit {
	if len(l.injected) > 0 {
		sl := l.injected[0]
		if sl.Requests--; sl.Requests <= 0 {
			l.injected = l.injected[1:]
		}
		return sl
	}
	if l.writesPerMin == 0 || method == http.MethodGet || method == http.MethodHead {
		return nil
	}
	recent := l.recentWrites(key, now)
	if len(recent) >= l.writesPerMin {
		return &SecondaryLimit{RetryAfter: recent[0].Add(time.Minute).Sub(now).Round(time.Second) + time.Second}
	}
	l.writes[key] = append(recent, now)
	return nil
}

// recentWrites returns the bucket's writes within the last minute.
func (l *limiter) recentWrites(key string, now time.Time) []time.Time {
	ws := l.writes[key]
	i := 0
	for i < len(ws) && !ws[i].After(now.Add(-time.Minute)) {
		i++
	}
	return ws[i:]
}

// SetRateLimit sets the primary limit per identity per hour, for existing
// and new identities. Requests already made in the current window still count.
func (e *Emulator) SetRateLimit(limit int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limits.limit = limit
}

// ResetRateLimits starts a fresh window for every identity.
func (e *Emulator) ResetRateLimits() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limits.buckets = map[string]*bucket{}
	e.limits.writes = map[string][]time.Time{}
}

// TriggerSecondaryLimit refuses the next sl.Requests authenticated requests
// with a secondary rate limit error.
func (e *Emulator) TriggerSecondaryLimit(sl SecondaryLimit) {
	sl.Requests = max(sl.Requests, 1)
	if sl.RetryAfter == 0 {
		sl.RetryAfter = time.Minute
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limits.injected = append(e.limits.injected, &sl)
}

// SetContentCreationLimit refuses, with a secondary rate limit error, more
// than perMinute non-GET requests per identity within any minute (GitHub
// documents 80). Zero, the default, disables the limit.
func (e *Emulator) SetContentCreationLimit(perMinute int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limits.writesPerMin = perMinute
}
