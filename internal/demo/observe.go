package demo

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/reconcile"
)

// observer prints what the agent makes visible as it appears: commit
// statuses of the commits of the story, comments on its pull requests,
// and Slack notifications.
type observer struct {
	env *Env
	out *printer

	mu       sync.Mutex
	commits  []string
	pulls    []int
	statuses map[int64]bool   // printed, by ID
	comments map[int64]string // printed body, by ID
	slack    int              // messages printed
}

func newObserver(env *Env, out *printer) *observer {
	return &observer{env: env, out: out, statuses: map[int64]bool{}, comments: map[int64]string{}}
}

// track adds a commit whose statuses are printed.
func (o *observer) track(sha string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.commits = append(o.commits, sha)
}

// trackPull adds a pull request whose comments are printed.
func (o *observer) trackPull(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pulls = append(o.pulls, n)
}

// run prints every interval until ctx is done.
func (o *observer) run(ctx context.Context, interval time.Duration) {
	every(ctx, interval, o.once)
}

// once prints what is new.
func (o *observer) once() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, sha := range o.commits {
		for _, s := range o.env.GitHub.Statuses(repoName, sha) {
			if !o.statuses[s.ID] {
				o.statuses[s.ID] = true
				o.out.printf("  status %-28s %-8s %s  [%s]", s.Context, s.State, s.Description, reconcile.ShortRevision(sha))
			}
		}
	}
	for _, n := range o.pulls {
		for _, c := range o.env.GitHub.Comments(repoName, n) {
			if prev, ok := o.comments[c.ID]; !ok || prev != c.Body {
				o.comments[c.ID] = c.Body
				verb := "comments"
				if ok {
					verb = "updates its comment"
				}
				o.out.printf("  %s %s on PR #%d:\n%s", c.Author, verb, n, indent(c.Body, "    | "))
			}
		}
	}
	msgs := o.env.Slack.Messages()
	for _, m := range msgs[o.slack:] {
		o.out.printf("  slack  %s", strings.ReplaceAll(m, "\n", "\n         "))
	}
	o.slack = len(msgs)
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix)
}

// statusSeen expects a status of context on sha in state whose
// description contains text (any text when empty).
func (e *Env) statusSeen(sha, name string, state githubemu.StatusState, text string) Expectation {
	what := name + " " + string(state)
	if text != "" {
		what += ` naming "` + text + `"`
	}
	return Expectation{
		What: what + " on " + reconcile.ShortRevision(sha),
		Check: func(context.Context) (bool, string) {
			var last *githubemu.Status
			for _, s := range e.GitHub.Statuses(repoName, sha) {
				if !strings.EqualFold(s.Context, name) {
					continue
				}
				if s.State == state && strings.Contains(strings.ToLower(s.Description), strings.ToLower(text)) {
					return true, ""
				}
				last = &s
			}
			if last == nil {
				return false, "no " + name + " status on " + reconcile.ShortRevision(sha)
			}
			return false, "latest " + name + ": " + string(last.State) + " " + last.Description
		},
	}
}

// commentSeen expects a comment by the agent on pull request n that
// contains text.
func (e *Env) commentSeen(n int, text string) Expectation {
	return Expectation{
		What: "a plan preview comment by " + botLogin + " on PR #" + strconv.Itoa(n),
		Check: func(context.Context) (bool, string) {
			cs := e.GitHub.Comments(repoName, n)
			for _, c := range cs {
				if c.Author == botLogin && strings.Contains(c.Body, text) {
					return true, ""
				}
			}
			if len(cs) == 0 {
				return false, "no comment on PR #" + strconv.Itoa(n)
			}
			return false, strconv.Itoa(len(cs)) + " comment(s), none by " + botLogin + " mentioning " + text
		},
	}
}

// slackSeen expects a Slack message, received after the first skip ones,
// that contains one of words (case-insensitive).
func (e *Env) slackSeen(what string, skip func() int, words ...string) Expectation {
	return Expectation{
		What: "a Slack notification " + what,
		Check: func(context.Context) (bool, string) {
			msgs := e.Slack.Messages()
			for _, m := range msgs[min(skip(), len(msgs)):] {
				for _, w := range words {
					if strings.Contains(strings.ToLower(m), strings.ToLower(w)) {
						return true, ""
					}
				}
			}
			if len(msgs) == 0 {
				return false, "no Slack message at all"
			}
			return false, "last Slack message: " + msgs[len(msgs)-1]
		},
	}
}
