package slack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
)

// maxReason is how many characters of an event's message a notification
// quotes.
const maxReason = 300

// notifiable maps an engine event to the configuration's event it is
// notified as; ok is false for events never notified: events of no
// rollout (refused revisions, plan previews: commit statuses report
// them), step progress, superseded rollouts, waits other than approval
// gates, and the start and success of rollouts of environments already in
// sync.
func notifiable(e reconcile.Event) (config.Event, bool) {
	switch {
	case e.Kind == reconcile.EventDeparted:
		return config.EventDeparted, true
	case e.Kind == reconcile.EventDeleted:
		return config.EventDeleted, true
	case e.Rollout == nil:
		return "", false
	}
	switch e.Kind {
	case reconcile.EventStarted:
		return config.EventStarted, !e.Rollout.Plan.InSync()
	case reconcile.EventWaiting:
		return config.EventWaiting, e.Step != nil && e.Step.Kind == reconcile.StepAwaitApproval
	case reconcile.EventSucceeded:
		return config.EventSucceeded, !e.Rollout.Plan.InSync()
	case reconcile.EventFailed:
		return config.EventFailed, true
	case reconcile.EventRolledBack:
		return config.EventRolledBack, true
	case reconcile.EventAction:
		return config.EventAction, true
	case reconcile.EventStepDone, reconcile.EventSuperseded:
	}
	return "", false
}

// onceKey identifies a notification that is sent at most once: a
// rollout's event, and for approval waits its step (the executor emits
// waiting on every poll). A failure is sent once more when the rollback
// it started fails too. A rollout is its ID and start time, since the same
// revision can be rolled out again.
func onceKey(ev config.Event, e reconcile.Event) string {
	if e.Rollout == nil { // an application that left Git, at a commit
		return e.App.String() + "|" + e.Env + "|" + e.Revision + "|" + string(ev)
	}
	key := e.Rollout.ID + "|" + strconv.FormatInt(e.Rollout.Started.UnixNano(), 10) + "|" + string(ev)
	switch {
	case ev == config.EventWaiting:
		key += "|" + strconv.Itoa(e.Rollout.Next)
	case ev == config.EventAction: // each action once
		key += "|" + e.Message
	case ev == config.EventFailed && e.Rollout.RollingBack && e.Rollout.State.Final():
		key += "|rollback" // the rollback failed after the failure was sent
	}
	return key
}

// payload is a Slack incoming-webhook message. Text is the fallback that
// notifications and Slack-compatible servers (Mattermost, Rocket.Chat)
// show; Blocks are Slack's layout.
type payload struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks,omitempty"`
}

type block struct {
	Type   string  `json:"type"`
	Text   *text   `json:"text,omitempty"`
	Fields []*text `json:"fields,omitempty"`
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func mrkdwn(s string) *text { return &text{Type: "mrkdwn", Text: s} }

// headline returns the one-line summary of an event, e.g.
// ":rotating_light: shop/checkout production rolled back abc1234: check
// canary 5xx rate failed: value 12.5". The application is named by its
// source and name, as two sources may have applications of the same name.
func headline(ev config.Event, e reconcile.Event) string {
	r := e.Rollout
	rev := reconcile.ShortRevision(r.Revision)
	app := r.AppID().String()
	var s string
	switch ev {
	case config.EventStarted:
		s = fmt.Sprintf(":rocket: %s %s started rolling out %s", app, r.Env, rev)
	case config.EventWaiting:
		s = fmt.Sprintf(":hourglass_flowing_sand: %s %s waits for approval of %s", app, r.Env, rev)
	case config.EventSucceeded:
		s = fmt.Sprintf(":white_check_mark: %s %s deployed %s", app, r.Env, rev)
	case config.EventFailed:
		s = fmt.Sprintf(":x: %s %s failed to deploy %s", app, r.Env, rev)
	case config.EventRolledBack:
		s = fmt.Sprintf(":rotating_light: %s %s rolled back %s", app, r.Env, rev)
	case config.EventAction:
		s = fmt.Sprintf(":warning: %s %s %s", app, r.Env, rev)
	}
	if reason := oneLine(e.Message); reason != "" {
		s += ": " + reason
	}
	return s
}

// stateLabel is the rollout's state as the event reports it (a failure is
// reported before the journal marks the rollout failed).
var stateLabel = map[config.Event]string{
	config.EventStarted:    "running",
	config.EventWaiting:    "waiting for approval",
	config.EventSucceeded:  "succeeded",
	config.EventFailed:     "failed",
	config.EventRolledBack: "rolled back",
	config.EventAction:     "acted on",
}

// render builds the message of an event; link, when not empty, is where
// people can see the application.
func render(ev config.Event, e reconcile.Event, link string) payload {
	if e.Rollout == nil {
		return renderDeparture(ev, e, link)
	}
	r := e.Rollout
	line := headline(ev, e)
	p := payload{Text: escape(line), Blocks: []block{
		{Type: "section", Text: mrkdwn(escape(line))},
		{Type: "section", Fields: []*text{
			mrkdwn("*App*\n" + escape(r.App)),
			mrkdwn("*Environment*\n" + escape(r.Env)),
			mrkdwn("*Revision*\n`" + escape(reconcile.ShortRevision(r.Revision)) + "`"),
			mrkdwn("*State*\n" + stateLabel[ev]),
		}},
	}}
	if r.Source != "" {
		p.Blocks[1].Fields = append(p.Blocks[1].Fields, mrkdwn("*Source*\n"+escape(r.Source)))
	}
	if link != "" {
		p.Blocks = append(p.Blocks, block{Type: "section", Text: mrkdwn("<" + escape(link) + "|View " + escape(r.AppID().String()) + ">")})
	}
	return p
}

// oneLine joins a message's lines and cuts it to maxReason characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxReason {
		s = string(r[:maxReason-1]) + "…"
	}
	return s
}

// escape escapes the characters Slack's mrkdwn reserves.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// renderDeparture builds the message of an application that left Git:
// left running, or deleted from an environment.
func renderDeparture(ev config.Event, e reconcile.Event, link string) payload {
	app, rev := e.App.String(), reconcile.ShortRevision(e.Revision)
	line := fmt.Sprintf(":wastebasket: %s %s was deleted: removed from Git at %s", app, e.Env, rev)
	state := "deleted"
	if ev == config.EventDeparted {
		line = fmt.Sprintf(":warning: %s %s left Git at %s and still runs: %s", app, e.Env, rev, oneLine(e.Message))
		state = "left running"
	}
	p := payload{Text: escape(line), Blocks: []block{
		{Type: "section", Text: mrkdwn(escape(line))},
		{Type: "section", Fields: []*text{
			mrkdwn("*App*\n" + escape(e.App.Name)),
			mrkdwn("*Environment*\n" + escape(e.Env)),
			mrkdwn("*Revision*\n`" + escape(rev) + "`"),
			mrkdwn("*State*\n" + state),
			mrkdwn("*Source*\n" + escape(e.App.Source)),
		}},
	}}
	if link != "" {
		p.Blocks = append(p.Blocks, block{Type: "section", Text: mrkdwn("<" + escape(link) + "|View " + escape(app) + ">")})
	}
	return p
}
