package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The live stream of a replica (GET /api/v1/events) under
// state.kubernetes also carries the events of the other replicas: each
// application's events come from its owner, the only one that runs its
// rollouts. For as long as a client follows the stream, the replica
// follows every other live replica's stream with the client's own
// credentials (ForwardedHeader set: the other replica sends its own
// events only) and passes their events on, but for the source events
// that every replica sends itself.

// The tuning of the peers' streams.
const (
	// peerRescan spaces the checks for replicas that joined or left.
	peerRescan = 5 * time.Second
	// peerReconnect spaces the attempts to follow a replica's stream
	// again after it ended or failed.
	peerReconnect = time.Second
	// maxEventLine bounds a line of a replica's stream.
	maxEventLine = 1 << 20
)

// followingPeer is the type of the mark a follower passes on when it has
// connected to a replica's stream (Message is its address): the stream
// says so in a comment, not as an event.
const followingPeer = ""

// followPeers returns the events of the other live replicas' streams,
// asked for on behalf of r, until ctx is done; nil when this agent is
// alone or r was forwarded by another replica.
func (a *Agent) followPeers(ctx context.Context, r *http.Request) <-chan EventView {
	if a.opts.Peers == nil || r.Header.Get(ForwardedHeader) != "" {
		return nil
	}
	out := make(chan EventView, feedBuffer)
	go a.peerFollowers(ctx, r, out)
	return out
}

// peerFollowers follows each other live replica's stream, checking every
// peerRescan for replicas that joined (followed from then on) or left
// (no longer followed).
func (a *Agent) peerFollowers(ctx context.Context, r *http.Request, out chan<- EventView) {
	following := map[string]context.CancelFunc{}
	defer func() {
		for _, stop := range following {
			stop()
		}
	}()
	rescan := a.opts.Clock.NewTicker(peerRescan)
	defer rescan.Stop()
	for {
		live := map[string]bool{}
		for _, base := range a.opts.Peers.Others() {
			live[base] = true
			if following[base] == nil {
				fctx, stop := context.WithCancel(ctx)
				following[base] = stop
				go a.followPeer(fctx, r, base, out)
			}
		}
		for base, stop := range following {
			if !live[base] {
				stop()
				delete(following, base)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-rescan.C():
		}
	}
}

// followPeer passes the events of the stream of the replica at base on
// to out, following it again peerReconnect after it ends, until ctx is
// done.
func (a *Agent) followPeer(ctx context.Context, r *http.Request, base string, out chan<- EventView) {
	u := strings.TrimSuffix(base, "/") + "/api/v1/events"
	if q := r.URL.RawQuery; q != "" {
		u += "?" + q
	}
	for {
		if err := a.peerStream(ctx, r, u, out); err != nil && ctx.Err() == nil {
			a.log.Debug("following another agent's event stream failed; trying again", "url", u, "err", err)
		}
		t := a.opts.Clock.NewTimer(peerReconnect)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// peerStream reads one connection to a replica's stream at u into out.
// The replica must answer within peerReadTimeout.
func (a *Agent) peerStream(ctx context.Context, r *http.Request, u string, out chan<- EventView) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	peerHeaders(req, r, a.self())
	req.Header.Set("Accept", "text/event-stream")
	slow := time.AfterFunc(peerReadTimeout, cancel)
	resp, err := http.DefaultClient.Do(req)
	slow.Stop()
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &relayError{status: resp.Status}
	}
	select { // the stream says so in a comment
	case out <- EventView{Type: followingPeer, Message: u}:
	case <-ctx.Done():
		return nil
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), maxEventLine)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e EventView
		if json.Unmarshal([]byte(data), &e) != nil || e.Type == "source" {
			continue
		}
		select {
		case out <- e:
		case <-ctx.Done():
			return nil
		}
	}
	return sc.Err()
}
