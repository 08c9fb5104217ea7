package account

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Retry limits of the SDK clients the platforms build: throttling is
// retried with backoff long enough to ride out a burst, so it never fails
// a rollout on its own.
const (
	retryMaxAttempts = 10
	retryMaxBackoff  = 20 * time.Second
)

// Retryer is the retryer every platform's clients use when their
// configuration has none: the SDK's standard retryer (which retries
// throttling and 5xx errors) with more attempts and a longer backoff
// ceiling.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = retryMaxAttempts
		o.MaxBackoff = retryMaxBackoff
	})
}
