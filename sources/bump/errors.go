package bump

import (
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// PushError means the Git server refused a push with the source's
// credentials: they may read the repository but not write to it.
// Retrying does not help until the credentials change.
type PushError struct {
	// Source is the source's name.
	Source string
	// URL is the repository's URL, without any password.
	URL string
	// Branch is the branch pushed.
	Branch string
	// Err is the transport's error.
	Err error
}

// Error names the source, the branch and what to grant.
func (e *PushError) Error() string {
	return fmt.Sprintf("source %q: %s refused the push to branch %s (%v): the source's credentials may read but not push; give the token contents:write (a GitHub App: Contents read and write) or use credentials that may push", e.Source, e.URL, e.Branch, reason(e.Err))
}

// Unwrap returns the transport's error.
func (e *PushError) Unwrap() error { return e.Err }

// refused reports whether a push failed because the server denied the
// credentials.
func refused(err error) bool {
	return errors.Is(err, transport.ErrAuthorizationFailed) || errors.Is(err, transport.ErrAuthenticationRequired)
}

// reason keeps the transport's reason without anything it might echo.
func reason(err error) string {
	if errors.Is(err, transport.ErrAuthenticationRequired) {
		return "authentication required"
	}
	return "authorization failed"
}
