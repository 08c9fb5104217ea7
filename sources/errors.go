package sources

import (
	"errors"
	"fmt"
)

// Errors of this package carry their retry policy: a Stalling error will
// not go away by polling again (the configuration, a credential or the
// repository must change first), anything else is transient and retried
// with exponential backoff. Pollers keep polling in both cases, backing
// off, so that a fixed secret file is picked up without a restart.

// Stalling reports whether err will persist until someone changes the
// configuration, a credential or the repository.
func Stalling(err error) bool {
	var s interface{ stalling() bool }
	return errors.As(err, &s) && s.stalling()
}

// ConfigError is a source configuration Jibe cannot use.
type ConfigError struct {
	// Source is the source's name ("" when unknown).
	Source string
	// Field is the offending field, e.g. "git.auth.sshKey".
	Field string
	// Err says what is wrong.
	Err error
}

// Error names the source, the problem and what to fix.
func (e *ConfigError) Error() string {
	if e.Source == "" {
		return fmt.Sprintf("%s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("source %q: %s: %v", e.Source, e.Field, e.Err)
}

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error  { return e.Err }
func (e *ConfigError) stalling() bool { return true }

// AuthError means the Git server or GitHub refused the source's
// credentials, or the repository needs credentials the source lacks. Its
// message names the source and what to fix, never a secret.
type AuthError struct {
	// Source is the source's name.
	Source string
	// URL is the repository URL.
	URL string
	// Fix says what the operator should check.
	Fix string
	// Err is the transport's error.
	Err error
}

// Error names the source, the problem and what to fix.
func (e *AuthError) Error() string {
	return fmt.Sprintf("source %q: %s refused the credentials (%v): %s", e.Source, e.URL, e.Err, e.Fix)
}

// Unwrap returns the underlying error.
func (e *AuthError) Unwrap() error  { return e.Err }
func (e *AuthError) stalling() bool { return true }

// HostKeyError means the SSH server's host key is not the one recorded in
// the source's known_hosts. Jibe refuses to talk to the server.
type HostKeyError struct {
	// Source is the source's name.
	Source string
	// Host is the server's "host:port".
	Host string
	// Err is the known_hosts check's error.
	Err error
}

// Error names the source, the problem and what to fix.
func (e *HostKeyError) Error() string {
	return fmt.Sprintf("source %q: refusing SSH server %s: its host key is not in git.auth.knownHosts (%v); add the server's key to known_hosts if it is genuine", e.Source, e.Host, e.Err)
}

// Unwrap returns the underlying error.
func (e *HostKeyError) Unwrap() error  { return e.Err }
func (e *HostKeyError) stalling() bool { return true }

// BranchDeletedError means the polled branch no longer exists on the
// server. The source's applications stay at their last revisions.
type BranchDeletedError struct {
	// URL is the repository URL.
	URL string
	// Branch is the missing branch.
	Branch string
	// LastCommit is the last commit seen on the branch, "" if none.
	LastCommit string
}

// Error names the source, the problem and what to fix.
func (e *BranchDeletedError) Error() string {
	if e.LastCommit == "" {
		return fmt.Sprintf("branch %q does not exist in %s", e.Branch, e.URL)
	}
	return fmt.Sprintf("branch %q was deleted from %s; applications stay at commit %.12s", e.Branch, e.URL, e.LastCommit)
}

func (e *BranchDeletedError) stalling() bool { return true }

// RepositoryNotFoundError means the server has no such repository (or
// hides it from these credentials).
type RepositoryNotFoundError struct {
	// Source is the source's name.
	Source string
	// URL is the repository URL.
	URL string
}

// Error names the source, the problem and what to fix.
func (e *RepositoryNotFoundError) Error() string {
	return fmt.Sprintf("source %q: repository %s not found; check git.url and that the credentials may read it", e.Source, e.URL)
}

func (e *RepositoryNotFoundError) stalling() bool { return true }
