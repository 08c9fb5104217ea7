package slack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/testenv/clockstep"
	"github.com/jibe-dev/jibe/internal/testenv/logbuf"
	"github.com/jibe-dev/jibe/reconcile"
)

// receiver is a webhook server recording the messages it accepts; answers
// are taken in turn from its script (200 when the script is exhausted).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	script   []answerScript
	got      []payload
	attempts int
	arrived  chan struct{}
}

type answerScript struct {
	status     int
	retryAfter string
}

func newReceiver(t *testing.T, script ...answerScript) *receiver {
	t.Helper()
	r := &receiver{script: script, arrived: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if len(r.script) > 0 {
		a := r.script[0]
		r.script = r.script[1:]
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		if a.status != http.StatusOK {
			w.WriteHeader(a.status)
			_, _ = io.WriteString(w, "invalid_payload")
			return
		}
	}
	var p payload
	if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.got = append(r.got, p)
	r.arrived <- struct{}{}
}

// messages returns the messages received.
func (r *receiver) messages() []payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]payload(nil), r.got...)
}

// tries returns how many requests arrived.
func (r *receiver) tries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

// texts returns the text of every message received.
func (r *receiver) texts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.got {
		out = append(out, p.Text)
	}
	return out
}

// url is the receiver's webhook URL, with a token path as Slack's have.
func (r *receiver) url() string { return r.URL + "/services/T000/B000/secret-token" }

// webhook configures a webhook whose URL is read from an environment
// variable, as the agent's configuration does.
func webhook(t *testing.T, name, url string, events ...config.Event) config.SlackWebhook {
	env := "JIBE_TEST_SLACK_" + strings.ToUpper(name)
	t.Setenv(env, url)
	return config.SlackWebhook{Name: name, URL: config.SecretRef{Env: env}, Events: events}
}

type env struct {
	n     *Notifier
	clock *clockstep.Stepper
	logs  *logbuf.Buffer
}

func newNotifier(t *testing.T, opts Options, hooks ...config.SlackWebhook) env {
	t.Helper()
	e := env{clock: clockstep.Start(t, clocktesting.NewFakeClock(started), time.Second), logs: &logbuf.Buffer{}}
	opts.Clock = e.clock.Clock
	opts.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, err := New(hooks, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.n = n
	return e
}

func (e env) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.n.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

var started = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// rollout is a canary rollout of checkout to production with one change.
func rollout() *reconcile.Rollout {
	return &reconcile.Rollout{ID: "shop/checkout/production/abc1234def", Source: "shop", App: "checkout", Env: "production", Revision: "abc1234def5678",
		Plan:    reconcile.EnvPlan{Name: "production", Strategy: "canary", Changes: []reconcile.Change{{Target: "web", Resource: "ECS service web"}}},
		Started: started, State: reconcile.RolloutRunning}
}

func inSync() *reconcile.Rollout {
	r := rollout()
	r.Plan.Changes = nil
	return r
}

var approval = &reconcile.Step{Kind: reconcile.StepAwaitApproval}

func TestEachEventKindSendsOneMessage(t *testing.T) {
	tests := []struct {
		event reconcile.Event
		want  string
		state string
	}{
		{reconcile.Event{Kind: reconcile.EventStarted, Rollout: rollout(), Message: "rolling out 1 change(s) with canary"},
			":rocket: shop/checkout production started rolling out abc1234: rolling out 1 change(s) with canary", "running"},
		{reconcile.Event{Kind: reconcile.EventWaiting, Rollout: rollout(), Step: approval, Message: "waiting for 1 approving review"},
			":hourglass_flowing_sand: shop/checkout production waits for approval of abc1234: waiting for 1 approving review", "waiting for approval"},
		{reconcile.Event{Kind: reconcile.EventSucceeded, Rollout: rollout()},
			":white_check_mark: shop/checkout production deployed abc1234", "succeeded"},
		{reconcile.Event{Kind: reconcile.EventFailed, Rollout: rollout(), Message: "check canary 5xx rate failed:\nvalue 12.5 > 1"},
			":x: shop/checkout production failed to deploy abc1234: check canary 5xx rate failed: value 12.5 &gt; 1", "failed"},
		{reconcile.Event{Kind: reconcile.EventRolledBack, Rollout: rollout(), Message: "check canary 5xx rate failed: value 12.5"},
			":rotating_light: shop/checkout production rolled back abc1234: check canary 5xx rate failed: value 12.5", "rolled back"},
		{reconcile.Event{Kind: reconcile.EventAction, Rollout: rollout(), Message: "break-glass approval of abc1234 in production by oncall: outage"},
			":warning: shop/checkout production abc1234: break-glass approval of abc1234 in production by oncall: outage", "acted on"},
		{reconcile.Event{Kind: reconcile.EventDeparted, App: reconcile.AppID{Source: "shop", Name: "checkout"}, Env: "production", Revision: "abc1234ffff",
			Message: "removed from Git at abc1234, left running: pruning is off for source shop"},
			":warning: shop/checkout production left Git at abc1234 and still runs: removed from Git at abc1234, left running: pruning is off for source shop", "left running"},
		{reconcile.Event{Kind: reconcile.EventDeleted, App: reconcile.AppID{Source: "shop", Name: "checkout"}, Env: "production", Revision: "abc1234ffff",
			Message: "removed from Git at abc1234, deleted"},
			":wastebasket: shop/checkout production was deleted: removed from Git at abc1234", "deleted"},
	}
	for _, tt := range tests {
		t.Run(tt.event.Kind.String(), func(t *testing.T) {
			rcv := newReceiver(t)
			e := newNotifier(t, Options{Link: func(app reconcile.AppID) string {
				return "https://jibe.example.com/apps/" + app.Source + "/" + app.Name
			}}, webhook(t, "ops", rcv.url()))
			e.n.Notify(tt.event)
			e.flush(t)
			got := rcv.messages()
			if len(got) != 1 {
				t.Fatalf("got %d messages, want 1", len(got))
			}
			p := got[0]
			if p.Text != tt.want {
				t.Errorf("text:\n got %q\nwant %q", p.Text, tt.want)
			}
			if len(p.Blocks) != 3 || p.Blocks[0].Text.Text != tt.want || len(p.Blocks[1].Fields) != 5 {
				t.Fatalf("blocks: %+v", p.Blocks)
			}
			wantFields := []string{"*App*\ncheckout", "*Environment*\nproduction", "*Revision*\n`abc1234`", "*State*\n" + tt.state, "*Source*\nshop"}
			for i, f := range p.Blocks[1].Fields {
				if f.Type != "mrkdwn" || f.Text != wantFields[i] {
					t.Errorf("field %d: got %+v, want mrkdwn %q", i, f, wantFields[i])
				}
			}
			if link := p.Blocks[2].Text.Text; link != "<https://jibe.example.com/apps/shop/checkout|View shop/checkout>" {
				t.Errorf("link block %q", link)
			}
		})
	}
}

// Step progress, supersessions, non-approval waits and in-sync rollouts
// are not notified; an approval gate is notified once however often it
// is polled; a failure reported twice is sent once.
func TestOnlyNotableEventsAreSentOnce(t *testing.T) {
	rcv := newReceiver(t)
	e := newNotifier(t, Options{}, webhook(t, "ops", rcv.url()))
	r := rollout()
	pause := &reconcile.Step{Kind: reconcile.StepPause}
	for _, ev := range []reconcile.Event{
		{Kind: reconcile.EventStarted, Rollout: inSync()},
		{Kind: reconcile.EventSucceeded, Rollout: inSync()},
		{Kind: reconcile.EventStepDone, Rollout: r, Step: pause},
		{Kind: reconcile.EventWaiting, Rollout: r, Step: pause, Message: "pausing"},
		{Kind: reconcile.EventSuperseded, Rollout: r},
		{Kind: reconcile.EventWaiting, Rollout: r, Step: approval, Message: "gate 1"},
		{Kind: reconcile.EventWaiting, Rollout: r, Step: approval, Message: "gate 1 again"},
		{Kind: reconcile.EventFailed, Rollout: r, Message: "broken"},
		{Kind: reconcile.EventFailed, Rollout: r, Message: "broken"},
	} {
		e.n.Notify(ev)
	}
	second := rollout()
	second.Next = 3
	e.n.Notify(reconcile.Event{Kind: reconcile.EventWaiting, Rollout: second, Step: approval, Message: "gate 2"})
	e.flush(t)
	want := []string{
		":hourglass_flowing_sand: shop/checkout production waits for approval of abc1234: gate 1",
		":x: shop/checkout production failed to deploy abc1234: broken",
		":hourglass_flowing_sand: shop/checkout production waits for approval of abc1234: gate 2",
	}
	if got := rcv.texts(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Each webhook gets the events it lists; all when it lists none.
func TestWebhooksFilterEvents(t *testing.T) {
	failures, all := newReceiver(t), newReceiver(t)
	e := newNotifier(t, Options{}, webhook(t, "oncall", failures.url(), config.EventFailed, config.EventRolledBack), webhook(t, "team", all.url()))
	e.n.Notify(reconcile.Event{Kind: reconcile.EventStarted, Rollout: rollout()})
	e.n.Notify(reconcile.Event{Kind: reconcile.EventRolledBack, Rollout: rollout(), Message: "broken"})
	e.flush(t)
	if got := failures.texts(); len(got) != 1 || !strings.HasPrefix(got[0], ":rotating_light:") {
		t.Errorf("oncall got %q, want the rollback only", got)
	}
	if got := all.texts(); len(got) != 2 {
		t.Errorf("team got %q, want both", got)
	}
}

// Server errors are retried with backoff, and 429 after the Retry-After
// the server asks for, without sleeping.
func TestRetriesServerErrorsAndThrottling(t *testing.T) {
	rcv := newReceiver(t, answerScript{status: 500}, answerScript{status: 503}, answerScript{status: 429, retryAfter: "7"})
	e := newNotifier(t, Options{}, webhook(t, "ops", rcv.url()))
	e.n.Notify(reconcile.Event{Kind: reconcile.EventSucceeded, Rollout: rollout()})
	e.flush(t)
	if len(rcv.messages()) != 1 || rcv.tries() != 4 {
		t.Errorf("delivered %d in %d attempts, want 1 in 4", len(rcv.messages()), rcv.tries())
	}
	want := []time.Duration{time.Second, 2 * time.Second, 7 * time.Second}
	if got := e.clock.Waits(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("waits %v, want %v", got, want)
	}
}

// Attempts are capped; refusals (4xx) are not retried; the logs name the
// webhook and never its URL.
func TestGivesUpAndNeverLogsTheURL(t *testing.T) {
	failing := newReceiver(t, answerScript{status: 500}, answerScript{status: 500}, answerScript{status: 500})
	refusing := newReceiver(t, answerScript{status: 404})
	down := newReceiver(t)
	down.Close()
	e := newNotifier(t, Options{MaxAttempts: 3}, webhook(t, "failing", failing.url()), webhook(t, "refusing", refusing.url()), webhook(t, "down", down.url()))
	e.n.Notify(reconcile.Event{Kind: reconcile.EventFailed, Rollout: rollout(), Message: "broken"})
	e.flush(t)
	if failing.tries() != 3 || refusing.tries() != 1 || len(failing.messages())+len(refusing.messages()) != 0 {
		t.Errorf("attempts: failing %d (want 3), refusing %d (want 1)", failing.tries(), refusing.tries())
	}
	logs := e.logs.String()
	for _, want := range []string{"webhook=failing", "giving up", "webhook=refusing", "status 404: invalid_payload", "webhook=down"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	for _, url := range []string{failing.url(), refusing.url(), down.url(), "secret-token", "/services/"} {
		if strings.Contains(logs, url) {
			t.Errorf("logs contain the URL %q:\n%s", url, logs)
		}
	}
}

// Notify never blocks: a full queue drops its oldest message, with a
// warning.
func TestFullQueueDropsTheOldest(t *testing.T) {
	rcv := newReceiver(t)
	e := newNotifier(t, Options{QueueSize: 2}, webhook(t, "ops", rcv.url()))
	r := rollout()
	e.n.Notify(reconcile.Event{Kind: reconcile.EventStarted, Rollout: r})
	e.n.Notify(reconcile.Event{Kind: reconcile.EventFailed, Rollout: r})
	e.n.Notify(reconcile.Event{Kind: reconcile.EventRolledBack, Rollout: r})
	e.flush(t)
	if got := rcv.texts(); len(got) != 2 || !strings.HasPrefix(got[0], ":x:") || !strings.HasPrefix(got[1], ":rotating_light:") {
		t.Errorf("got %q, want the failure and the rollback", got)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "dropped the oldest notification") || !strings.Contains(logs, "event=started") {
		t.Errorf("no warning for the dropped message:\n%s", logs)
	}
}

// Run delivers as events come, until its context ends.
func TestRunDeliversUntilCanceled(t *testing.T) {
	rcv := newReceiver(t)
	e := newNotifier(t, Options{}, webhook(t, "ops", rcv.url()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.n.Run(ctx) }()
	e.n.Notify(reconcile.Event{Kind: reconcile.EventStarted, Rollout: rollout()})
	select {
	case <-rcv.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no message delivered within 10s")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
}

// New resolves URLs and checks them without ever quoting them.
func TestNewRejectsBadWebhooks(t *testing.T) {
	for name, hook := range map[string]config.SlackWebhook{
		"unset":     {Name: "ops", URL: config.SecretRef{Env: "JIBE_TEST_SLACK_UNSET"}},
		"not http":  webhook(t, "ftp", "ftp://hooks.example.com/secret-token"),
		"malformed": webhook(t, "bad", "http://[::1/secret-token"),
		"event":     {Name: "ops", URL: webhook(t, "ok", "https://hooks.example.com/x").URL, Events: []config.Event{"deployed"}},
	} {
		_, err := New([]config.SlackWebhook{hook}, Options{})
		if err == nil || strings.Contains(err.Error(), "secret-token") || !strings.Contains(err.Error(), hook.Name) {
			t.Errorf("%s: got %v, want an error naming %s and not the URL", name, err, hook.Name)
		}
	}
}
