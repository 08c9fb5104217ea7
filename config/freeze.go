package config

import (
	"fmt"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// FreezeWindow is a recurring deploy freeze: from each time its schedule
// names, for its duration, no rollout of what it covers starts, and a
// running one stops before its next step (a rollback still runs).
type FreezeWindow struct {
	// Schedule is when the window opens, in cron's five fields (minute
	// hour day-of-month month day-of-week), e.g. "0 18 * * 5" for Fridays
	// at 18:00, in UTC unless it starts with CRON_TZ=<zone>, e.g.
	// "CRON_TZ=Europe/Paris 0 18 * * 5".
	Schedule string `json:"schedule" jsonschema:"required"`
	// Duration is how long the window stays open, e.g. 62h.
	Duration *Duration `json:"duration" jsonschema:"required"`
	// Sources are the names of the sources it covers. Default: all.
	Sources []string `json:"sources,omitempty"`
	// Applications are globs of the names of the applications it covers,
	// e.g. "checkout-*". Default: all.
	Applications []string `json:"applications,omitempty"`
	// Environments are globs of the names of the environments it covers.
	// Default: all.
	Environments []string `json:"environments,omitempty"`
	// Reason says why, shown with every rollout it holds.
	Reason string `json:"reason,omitempty"`
}

// Covers reports whether the window applies to environment env of
// application app of source.
func (w *FreezeWindow) Covers(source, app, env string) bool {
	return (len(w.Sources) == 0 || slices.Contains(w.Sources, source)) &&
		globsMatch(w.Applications, app) && globsMatch(w.Environments, env)
}

// OpenAt returns when the window open at now closes, and whether one is
// open. A schedule that does not parse (refused by Load) is never open.
func (w *FreezeWindow) OpenAt(now time.Time) (time.Time, bool) {
	sched, err := parseSchedule(w.Schedule)
	if err != nil || w.Duration == nil || w.Duration.Duration <= 0 {
		return time.Time{}, false
	}
	opened, ok := lastOpening(sched, now, w.Duration.Duration)
	if !ok {
		return time.Time{}, false
	}
	return opened.Add(w.Duration.Duration), true
}

// lastOpening returns the latest time sched names in (now-d, now]. It
// looks back over spans doubling from one second, so a schedule of every
// minute held for days costs a few dozen Next calls, not thousands.
func lastOpening(sched cron.Schedule, now time.Time, d time.Duration) (time.Time, bool) {
	for span := time.Second; ; span *= 2 {
		span = min(span, d)
		t := sched.Next(now.Add(-span))
		if !t.After(now) {
			for next := sched.Next(t); !next.After(now); next = sched.Next(next) {
				t = next
			}
			return t, true
		}
		if span == d {
			return time.Time{}, false
		}
	}
}

// schedules caches parsed freeze window schedules by their text: every
// rollout step asks whether a window is open.
var schedules sync.Map // string → cron.Schedule

func parseSchedule(spec string) (cron.Schedule, error) {
	if s, ok := schedules.Load(spec); ok {
		return s.(cron.Schedule), nil
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, err
	}
	schedules.Store(spec, s)
	return s, nil
}

// Frozen returns the index of the first freeze window open at now that
// covers environment env of application app of source, and when it
// closes; -1 when none.
func (c *Config) Frozen(source, app, env string, now time.Time) (int, time.Time) {
	for i := range c.FreezeWindows {
		w := &c.FreezeWindows[i]
		if !w.Covers(source, app, env) {
			continue
		}
		if until, ok := w.OpenAt(now); ok {
			return i, until
		}
	}
	return -1, time.Time{}
}

// BreakGlassAllows says why token may not use break-glass in environment
// env of the source's applications, nil when it may.
func (s *Source) BreakGlassAllows(env, token string) error {
	bg := s.BreakGlass
	switch {
	case bg == nil:
		return fmt.Errorf("break-glass is not enabled for source %s: set sources[].breakGlass.environments in the agent configuration", s.Name)
	case !globsMatch(bg.Environments, env):
		return fmt.Errorf("break-glass is not enabled for environment %s of source %s (sources[].breakGlass.environments)", env, s.Name)
	case len(bg.Tokens) > 0 && !slices.Contains(bg.Tokens, token):
		return fmt.Errorf("token %s may not use break-glass on source %s (sources[].breakGlass.tokens)", token, s.Name)
	}
	return nil
}

// globsMatch reports whether name matches one of globs, or globs is
// empty.
func globsMatch(globs []string, name string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

// freezeWindows checks the windows' schedules, durations, sources and
// globs.
func (v *validator) freezeWindows(ws []FreezeWindow, sources []Source) {
	names := map[string]bool{}
	for _, s := range sources {
		names[s.Name] = true
	}
	for i, w := range ws {
		f := fmt.Sprintf("freezeWindows[%d]", i)
		if _, err := cron.ParseStandard(w.Schedule); err != nil {
			v.errorf(f+".schedule", `the value is not a cron schedule of five fields such as "0 18 * * 5" (Fridays at 18:00 UTC)`)
		}
		if w.Duration != nil && w.Duration.Duration <= 0 {
			v.errorf(f+".duration", "must be more than 0, e.g. 62h")
		}
		for j, s := range w.Sources {
			if !names[s] {
				v.errorf(fmt.Sprintf("%s.sources[%d]", f, j), "no source has this name; name one of sources[].name")
			}
		}
		v.globs(f+".applications", w.Applications)
		v.globs(f+".environments", w.Environments)
	}
}

// breakGlass checks that the tokens a source's break-glass names are
// tokens of scope write.
func (v *validator) breakGlass(field string, bg *BreakGlass, tokens []APIToken) {
	v.globs(field+".environments", bg.Environments)
	for j, name := range bg.Tokens {
		i := slices.IndexFunc(tokens, func(t APIToken) bool { return t.Name == name })
		switch {
		case i < 0:
			v.errorf(fmt.Sprintf("%s.tokens[%d]", field, j), "no token of server.tokens has this name")
		case tokens[i].Scope != ScopeWrite:
			v.errorf(fmt.Sprintf("%s.tokens[%d]", field, j), "the token has scope read; break-glass needs a token of scope write")
		}
	}
}

func (v *validator) globs(field string, globs []string) {
	for j, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			v.errorf(fmt.Sprintf("%s[%d]", field, j), "the value is not a glob such as prod-*")
		}
	}
}
