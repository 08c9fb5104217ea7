package sources

import (
	"math/rand/v2"
	"time"
)

// jitter spreads d by up to ±fraction, so that pollers started together do
// not keep hitting the server in the same instant.
func jitter(d time.Duration, fraction float64) time.Duration {
	if fraction <= 0 || d <= 0 {
		return d
	}
	f := 1 + fraction*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// backoff returns the delay before the next poll after failures
// consecutive failures: the interval doubled per failure, at most limit
// (and never less than the interval).
func backoff(interval, limit time.Duration, failures int) time.Duration {
	if failures <= 0 {
		return interval
	}
	d := interval
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return max(min(d, limit), interval)
}
