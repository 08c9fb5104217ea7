package agent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

// The live stream's tuning.
const (
	// keepAliveInterval spaces the comments that keep an idle stream's
	// connection open through proxies.
	keepAliveInterval = 15 * time.Second
	// feedBuffer is how many events a subscriber may fall behind by
	// before it is dropped (its client reconnects and reads the state
	// again).
	feedBuffer = 256
	// retryMillis is the reconnection delay the stream asks of clients.
	retryMillis = 3000
)

// feed fans the live stream's events out to its subscribers, never
// blocking: a subscriber that falls feedBuffer events behind is dropped
// (its channel closed).
type feed struct {
	mu   sync.Mutex
	seq  uint64
	subs map[chan EventView]struct{}
}

// subscribe returns a channel of the events published from now on, and
// the function that ends the subscription.
func (f *feed) subscribe() (<-chan EventView, func()) {
	ch := make(chan EventView, feedBuffer)
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[chan EventView]struct{}{}
	}
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
	}
}

// publish numbers e and gives it to every subscriber.
func (f *feed) publish(e EventView) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	e.Seq = f.seq
	for ch := range f.subs {
		select {
		case ch <- e:
		default:
			delete(f.subs, ch)
			close(ch)
		}
	}
}

// Watch returns the live stream's events from now on (those GET
// /api/v1/events sends), and the function that ends the subscription. The
// channel is closed when the subscriber falls too far behind, or stop is
// called; the dashboard reads the views again then.
func (a *Agent) Watch() (<-chan EventView, func()) { return a.feed.subscribe() }

// eventView is the live stream's form of an engine event.
func eventView(e reconcile.Event, at time.Time) EventView {
	v := EventView{Type: "rollout", Kind: e.Kind.String(), App: e.App.String(), Source: e.App.Source, Env: e.Env,
		Revision: e.Revision, Step: stepName(e.Step), Message: e.Message, At: at}
	switch {
	case e.Kind == reconcile.EventAction:
		v.Type = "action"
		if e.Rollout != nil {
			v.Rollout = e.Rollout.ID
		}
	case e.Rollout != nil:
		v.Rollout = e.Rollout.ID
	case e.Kind == reconcile.EventWaiting:
		v.Type = "held"
	case e.Kind.Refused():
		v.Type = "refused"
	default:
		v.Type = "plan"
	}
	return v
}

// serveEvents streams events as server-sent events until the client
// goes away, the server shuts down, or the client falls too far behind.
// ?app=source/name keeps one application's events (and its source's).
// Events are not replayed: Last-Event-ID is ignored, and a client that
// reconnects reads the views again. When agents share the journal, the
// stream also carries the other agents' events (see followPeers),
// numbered in the stream.
func (a *Agent) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The server's write timeout would cut the stream: it has none.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		http.Error(w, "this server cannot stream: "+err.Error(), http.StatusInternalServerError)
		return
	}
	events, stop := a.Watch()
	defer stop()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	fmt.Fprintf(w, "retry: %d\n: connected\n\n", retryMillis)
	if rc.Flush() != nil {
		return
	}
	keepAlive := a.opts.Clock.NewTicker(keepAliveInterval)
	defer keepAlive.Stop()
	app := r.URL.Query().Get("app")
	closing := shuttingDown(r.Context())
	peers := a.followPeers(r.Context(), r)
	var seq uint64 // the merged stream's numbers, with peers
	for {
		select {
		case <-r.Context().Done():
			return
		case <-closing:
			return
		case <-keepAlive.C():
			fmt.Fprint(w, ": keep-alive\n\n")
		case e, ok := <-events:
			if !ok {
				return
			}
			if !wanted(e, app) {
				continue
			}
			if peers != nil {
				seq++
				e.Seq = seq
			}
			writeEvent(w, e)
		case e := <-peers:
			if e.Type == followingPeer {
				fmt.Fprintf(w, ": following the events of %s\n\n", e.Message)
				break
			}
			seq++
			e.Seq = seq
			writeEvent(w, e)
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// writeEvent writes e as a server-sent event.
func writeEvent(w http.ResponseWriter, e EventView) {
	data, _ := json.Marshal(e)
	fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, data)
}

// wanted reports whether a stream filtered on app sends e.
func wanted(e EventView, app string) bool {
	if app == "" || e.App == app {
		return true
	}
	source, _, _ := strings.Cut(app, "/")
	return e.Type == "source" && e.Source == source
}
