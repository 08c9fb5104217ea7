package agent

import (
	"fmt"
	"net/http"
	"strings"
)

// Ready reports whether the agent knows what Git wants: once any of its
// sources has polled successfully (a dir source reads its folder at
// start), and, when not, why not. Until then it has nothing to reconcile
// and cannot tell a revision from none: a load balancer or a rolling
// update of the agent itself should not count on it. One source is
// enough, as the issue asks ("while no source has ever polled
// successfully"): a failing source stays visible in /healthz and
// /api/v1/sources, and in jibe_source_poll_errors_total.
//
// With Options.Synced, the agent is ready only once it says so too (the
// shared journal's and the coordinator's caches have synced), standbys
// included: a standby serves the API and takes over.
func (a *Agent) Ready() (bool, string) {
	if a.opts.Synced != nil {
		if ok, why := a.opts.Synced(); !ok {
			return false, why
		}
	}
	views := a.Sources()
	if len(views) == 0 {
		return false, "no sources are configured"
	}
	var why []string
	for _, s := range views {
		if s.Kind == "dir" || !s.LastSuccess.IsZero() {
			return true, "source " + s.Name + " polled"
		}
		switch {
		case s.LastError != "":
			// The error itself is for GET /api/v1/sources, behind a token.
			why = append(why, fmt.Sprintf("source %s: %d failed poll(s) (see GET /api/v1/sources)", s.Name, s.Failures))
		default:
			why = append(why, "source "+s.Name+": not polled yet")
		}
	}
	return false, "no source has polled successfully yet: " + strings.Join(why, "; ")
}

// serveReadyz answers 200 "ready" once a source has polled successfully
// (see Ready), 503 with the reason before.
func (a *Agent) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	ok, why := a.Ready()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready: " + why + "\n"))
		return
	}
	w.Write([]byte("ready\n"))
}
