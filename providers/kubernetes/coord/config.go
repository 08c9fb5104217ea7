package coord

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/clock"
)

// Labels and annotations of the member Leases.
const (
	// LabelMembers labels every member Lease with the installation's name.
	LabelMembers = "jibe.dev/members"
	// AnnotationURL holds a member's advertised base URL.
	AnnotationURL = "jibe.dev/url"
	// AnnotationView holds the member set a member has settled on,
	// comma-separated and sorted. Absent: the member owns nothing yet.
	AnnotationView = "jibe.dev/view"
)

// Config configures a Leader or Shards. Namespace and Identity are
// required; the zero value of every other field takes its default.
type Config struct {
	// Namespace holds the Leases.
	Namespace string
	// Name prefixes the Leases: <name>-leader, <name>-member-<identity>.
	// Default "jibe".
	Name string
	// Identity names this replica among the others (a pod name).
	Identity string
	// URL is this replica's advertised base URL (http://POD_IP:8080),
	// published on its member Lease for the others.
	URL string
	// LeaseDuration is how long a Lease holds without renewal. Default 15s;
	// whole seconds (a Lease records seconds).
	LeaseDuration time.Duration
	// RenewDeadline is how long after its last renewal a holder still
	// grants Acquire; shorter than LeaseDuration. Default 10s.
	RenewDeadline time.Duration
	// RetryPeriod is how often Leases are renewed. Default 2s.
	RetryPeriod time.Duration
	// Clock measures renewals and expiry. Default the real clock.
	// client-go's leader election takes none: it always runs on the real
	// clock.
	Clock clock.Clock
	// Logger receives transitions and failures. Default slog.Default().
	Logger *slog.Logger
}

// withDefaults returns c with defaults filled in, or an error naming the
// field to fix.
func (c Config) withDefaults() (Config, error) {
	if c.Name == "" {
		c.Name = "jibe"
	}
	c.LeaseDuration = orDefault(c.LeaseDuration, 15*time.Second)
	c.RenewDeadline = orDefault(c.RenewDeadline, 10*time.Second)
	c.RetryPeriod = orDefault(c.RetryPeriod, 2*time.Second)
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, c.validate()
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// validate checks the names and the durations' order.
func (c Config) validate() error {
	var errs []error
	if c.Namespace == "" {
		errs = append(errs, errors.New("namespace is empty: set state.kubernetes.namespace"))
	}
	if c.Identity == "" {
		errs = append(errs, errors.New("identity is empty: set state.kubernetes.identity or POD_NAME"))
	}
	for _, name := range []string{leaderLeaseName(c.Name), memberLeaseName(c.Name, c.Identity)} {
		if problems := validation.IsDNS1123Subdomain(name); len(problems) > 0 {
			errs = append(errs, fmt.Errorf("lease name %q (from name and identity) is invalid: %s", name, strings.Join(problems, "; ")))
		}
	}
	if c.LeaseDuration%time.Second != 0 {
		errs = append(errs, fmt.Errorf("leaseDuration %s is not whole seconds", c.LeaseDuration))
	}
	if c.LeaseDuration <= c.RenewDeadline {
		errs = append(errs, fmt.Errorf("leaseDuration %s must be longer than renewDeadline %s", c.LeaseDuration, c.RenewDeadline))
	}
	if c.RenewDeadline <= c.RetryPeriod*12/10 {
		errs = append(errs, fmt.Errorf("renewDeadline %s must be longer than 1.2 × retryPeriod %s", c.RenewDeadline, c.RetryPeriod))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("coord: invalid configuration: %w", err)
	}
	return nil
}

func leaderLeaseName(name string) string { return name + "-leader" }

func memberLeaseName(name, identity string) string { return name + "-member-" + identity }

// Member is one replica as its member Lease shows it.
type Member struct {
	// Identity names the replica.
	Identity string
	// URL is its advertised base URL (empty if it advertises none).
	URL string
	// Live reports whether its Lease was renewed within its duration.
	Live bool
}
