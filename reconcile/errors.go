package reconcile

import (
	"errors"
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/internal/backoff"
)

// Errors carry their retry policy. A stalled error means the input is
// wrong (an invalid spec, a target the source may not deploy to): retrying
// cannot help, so the revision waits until the spec or configuration
// changes. A waiting error means an expected condition is not met yet (an
// approval, a rollout in progress): check again after RequeueAfter. Any
// other error is transient and retried with RetryBackoff.

// StalledError is an error that retrying cannot fix.
type StalledError struct{ Err error }

// Error returns the underlying message.
func (e *StalledError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *StalledError) Unwrap() error { return e.Err }

// Stalled marks err as one retrying cannot fix. Stalled(nil) is nil.
func Stalled(err error) error {
	if err == nil {
		return nil
	}
	return &StalledError{Err: err}
}

// WaitingError says an expected condition is not met yet.
type WaitingError struct {
	// Reason says what is awaited, e.g. "waiting for 1 approving review".
	Reason string
	// RequeueAfter is when to check again.
	RequeueAfter time.Duration
	// OnChange says that the wait ends with a change on a platform (a
	// health wait), not with time: when the platform reports changes
	// (Watcher), the wait is evaluated again as soon as it reports one.
	OnChange bool
}

// Error returns the reason.
func (e *WaitingError) Error() string { return e.Reason }

// Waiting returns a WaitingError checked again after d.
func Waiting(d time.Duration, format string, args ...any) error {
	return &WaitingError{Reason: fmt.Sprintf(format, args...), RequeueAfter: d}
}

// Policy is what to do after an error.
type Policy int

// The retry policies.
const (
	// PolicyNone: there was no error.
	PolicyNone Policy = iota
	// PolicyStall: do not retry until the input changes.
	PolicyStall
	// PolicyRequeue: check again after the WaitingError's RequeueAfter.
	PolicyRequeue
	// PolicyBackoff: retry with exponential backoff.
	PolicyBackoff
)

// String names the policy.
func (p Policy) String() string {
	switch p {
	case PolicyNone:
		return "none"
	case PolicyStall:
		return "stall"
	case PolicyRequeue:
		return "requeue"
	}
	return "backoff"
}

// PolicyOf returns the retry policy err carries.
func PolicyOf(err error) Policy {
	var stalled *StalledError
	var waiting *WaitingError
	switch {
	case err == nil:
		return PolicyNone
	case errors.As(err, &stalled):
		return PolicyStall
	case errors.As(err, &waiting):
		return PolicyRequeue
	}
	return PolicyBackoff
}

// RetryBackoff spaces the retries of a revision whose reconcile failed with
// a transient error (PolicyBackoff): 1s doubled per consecutive failure up
// to 5m, without jitter.
var RetryBackoff = backoff.Backoff{Base: time.Second, Max: 5 * time.Minute}
