package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jibe-dev/jibe/internal/credential"
	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// SecretRef names where a secret is kept: an environment variable or a
// file. Exactly one field is set. The configuration file never holds the
// secret itself.
type SecretRef struct {
	// Env is the name of an environment variable holding the secret.
	Env string `json:"env,omitempty"`
	// File is the path of a file holding the secret (trailing newlines are
	// dropped). Relative paths are relative to the configuration file.
	File string `json:"file,omitempty"`
}

// RedactedHint tells users who wrote a secret itself where its reference
// belongs what to write instead.
func (*SecretRef) RedactedHint() string {
	return "Never write a secret in the configuration: name the environment variable or file holding it, as {env: NAME} or {file: PATH}"
}

// String describes the reference, never the secret.
func (r SecretRef) String() string {
	if r.Env != "" {
		return "environment variable " + r.Env
	}
	return "file " + r.File
}

// Resolve reads the secret. Errors name the variable or file, never any
// content.
func (r SecretRef) Resolve() (Secret, error) {
	if r.Env != "" {
		v, ok := os.LookupEnv(r.Env)
		if !ok || v == "" {
			return Secret{}, fmt.Errorf("environment variable %s is not set; export it or name a file instead", r.Env)
		}
		return Secret{v}, nil
	}
	data, err := os.ReadFile(r.File)
	if err != nil {
		return Secret{}, fmt.Errorf("cannot read secret file %s: %w", r.File, strictyaml.PathCause(err))
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" {
		return Secret{}, fmt.Errorf("secret file %s is empty", r.File)
	}
	return Secret{v}, nil
}

// The problems of a reference's names. They never quote the name: a name
// that looks like a credential may be one.
const (
	msgEnvLooksLikeCredential  = "the value looks like a credential, not a variable name: put the token in an environment variable or file and name that here"
	msgFileLooksLikeCredential = "the value looks like a credential, not a file path: put the token in an environment variable or file and name that here"
	msgNotEnvName              = "the value is not an environment variable name: use letters, digits and _, not starting with a digit"
)

// problem returns what is wrong with the reference written at field: the
// field to report (field itself, or its env or file) and the message, or
// "" when nothing is.
func (r *SecretRef) problem(field string) (string, string) {
	switch {
	case (r.Env == "") == (r.File == ""):
		return field, "set exactly one of env and file"
	case r.Env != "" && credential.Looks(r.Env):
		return field + ".env", msgEnvLooksLikeCredential
	case r.Env != "" && !envVarRE.MatchString(r.Env):
		return field + ".env", msgNotEnvName
	case r.File != "" && credential.LooksInPath(r.File):
		return field + ".file", msgFileLooksLikeCredential
	}
	return field, ""
}

// resolvePath makes a relative File absolute against dir.
func (r *SecretRef) resolvePath(dir string) {
	if r != nil && r.File != "" && !filepath.IsAbs(r.File) {
		r.File = filepath.Join(dir, r.File)
	}
}

// Secret is a secret value. It formats as "[redacted]" everywhere (fmt,
// slog, JSON), so it cannot leak into logs or statuses by accident; Reveal
// returns the value for the one place that needs it.
type Secret struct{ value string }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return s.value }

// String returns "[redacted]".
func (s Secret) String() string { return "[redacted]" }

// GoString returns "[redacted]".
func (s Secret) GoString() string { return "[redacted]" }

// LogValue keeps the secret out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalText returns "[redacted]".
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }
