package agent

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// fieldCheck is a check of an environment with where the spec writes it.
type fieldCheck struct {
	field string
	check *spec.Check
}

// httpChecks lists env's HTTP checks: verify and canary analysis steps.
func httpChecks(env *spec.Environment) []fieldCheck {
	var out []fieldCheck
	add := func(field string, c *spec.Check) {
		if c.HTTP != nil {
			out = append(out, fieldCheck{field: field, check: c})
		}
	}
	for i := range env.Verify {
		add(fmt.Sprintf("verify[%d]", i), &env.Verify[i])
	}
	for i, s := range env.Strategy.Steps() {
		if s.Analysis == nil {
			continue
		}
		for j := range s.Analysis.Checks {
			add(fmt.Sprintf("%s[%d].analysis.checks[%d]", env.Strategy.StepsField(), i, j), &s.Analysis.Checks[j])
		}
	}
	return out
}

// checkHTTPHosts refuses env's HTTP checks whose URL the source may not
// request (hosts), with the ${rollout.*} placeholders known before the
// rollout filled in. A host that still holds a placeholder is refused:
// it cannot be checked before the rollout.
func checkHTTPHosts(hosts reconcile.CheckHosts, env *spec.Environment, revision string) error {
	vars := map[string]string{"rollout.revision": revision, "rollout.shortRevision": reconcile.ShortRevision(revision)}
	for _, fc := range httpChecks(env) {
		if err := checkURLHost(hosts, fc.check.HTTP.URL, vars); err != nil {
			return fmt.Errorf("check %s (%s): %w", fc.check.Name, fc.field, err)
		}
	}
	return nil
}

// placeholderRE is a ${...} placeholder.
var placeholderRE = regexp.MustCompile(`\$\{[^{}]*\}`)

func checkURLHost(hosts reconcile.CheckHosts, raw string, vars map[string]string) error {
	for k, v := range vars {
		raw = strings.ReplaceAll(raw, "${"+k+"}", v)
	}
	authority := raw
	if i := strings.Index(authority, "://"); i >= 0 {
		authority = authority[i+3:]
	}
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if strings.Contains(authority, "${") {
		return fmt.Errorf("the URL's host holds a placeholder resolved only during the rollout, so allow.checkHosts cannot be checked before it; write the host in full")
	}
	u, err := url.Parse(placeholderRE.ReplaceAllString(raw, "x"))
	if err != nil {
		return fmt.Errorf("the URL cannot be parsed: %w", err)
	}
	return hosts.AllowURL(u)
}
