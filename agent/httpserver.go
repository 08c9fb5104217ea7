package agent

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/netutil"

	"github.com/jibe-dev/jibe/config"
)

// maxHeaderBytes bounds a request's headers. GitHub's deliveries and
// Prometheus scrapes send a few hundred bytes.
const maxHeaderBytes = 64 << 10

// hooksPrefix is where webhooks are served (see Handler).
const hooksPrefix = "/hooks/"

// webhookRetryAfter is the Retry-After of a webhook refused because too
// many are being handled, in seconds.
const webhookRetryAfter = "1"

// ServerLimits bounds what the clients of the agent's HTTP server may
// hold: time, connections, concurrent webhooks and body sizes. A zero
// field takes its default from config (config.DefaultReadTimeout...).
type ServerLimits struct {
	// ReadHeaderTimeout bounds the time to send a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to send a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of a request's headers to
	// the end of its response.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout time.Duration
	// MaxConnections bounds the connections open at once.
	MaxConnections int
	// MaxConcurrentWebhooks bounds the webhook deliveries handled at once.
	MaxConcurrentWebhooks int
	// MaxWebhookBody bounds a webhook delivery's body, in bytes.
	MaxWebhookBody int64
}

// LimitsOf returns the limits the configuration sets (with its defaults
// applied).
func LimitsOf(s config.Server) ServerLimits {
	l := ServerLimits{MaxConnections: s.MaxConnections, MaxConcurrentWebhooks: s.MaxConcurrentWebhooks,
		MaxWebhookBody: s.MaxWebhookBodyBytes}
	for dst, src := range map[*time.Duration]*config.Duration{&l.ReadHeaderTimeout: s.ReadHeaderTimeout,
		&l.ReadTimeout: s.ReadTimeout, &l.WriteTimeout: s.WriteTimeout, &l.IdleTimeout: s.IdleTimeout} {
		if src != nil {
			*dst = src.Duration
		}
	}
	return l.withDefaults()
}

// withDefaults fills the zero fields of l.
func (l ServerLimits) withDefaults() ServerLimits {
	orDuration := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	orDuration(&l.ReadHeaderTimeout, config.DefaultReadHeaderTimeout)
	orDuration(&l.ReadTimeout, config.DefaultReadTimeout)
	orDuration(&l.WriteTimeout, config.DefaultWriteTimeout)
	orDuration(&l.IdleTimeout, config.DefaultIdleTimeout)
	if l.MaxConnections <= 0 {
		l.MaxConnections = config.DefaultMaxConnections
	}
	if l.MaxConcurrentWebhooks <= 0 {
		l.MaxConcurrentWebhooks = config.DefaultMaxConcurrentWebhooks
	}
	if l.MaxWebhookBody <= 0 {
		l.MaxWebhookBody = config.DefaultMaxWebhookBodyBytes
	}
	return l
}

// Server is the agent's HTTP server: Handler's routes behind the limits.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// NewServer listens on addr and returns the server of h there, under
// limits:
//   - every request must arrive within ReadTimeout (its headers within
//     ReadHeaderTimeout), its response be written within WriteTimeout,
//     and a connection idle for IdleTimeout is closed;
//   - at most MaxConnections are open at once; further ones wait to be
//     accepted;
//   - routes under /hooks/ handle at most MaxConcurrentWebhooks deliveries
//     at once (further ones get 503 with Retry-After, their bodies unread)
//     and bodies of at most MaxWebhookBody bytes (413 otherwise);
//   - every other route takes no body (413 otherwise), so /healthz,
//     /metrics and the API never wait for one.
//
// Refused requests close their connection.
func NewServer(addr string, h http.Handler, limits ServerLimits) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server.listen: %w", err)
	}
	l := limits.withDefaults()
	// Streams (GET /api/v1/events) end when Shutdown starts instead of
	// holding it until its deadline; other requests finish.
	closing := make(chan struct{})
	base := context.WithValue(context.Background(), shutdownKey{}, (<-chan struct{})(closing))
	srv := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return base },
		Handler:           limitRoutes(h, l),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	srv.RegisterOnShutdown(func() { close(closing) })
	return &Server{srv: srv, ln: netutil.LimitListener(ln, l.MaxConnections)}, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until Shutdown. It always returns a non-nil error:
// http.ErrServerClosed after Shutdown.
func (s *Server) Serve() error { return s.srv.Serve(s.ln) }

// Shutdown stops accepting connections and waits, until ctx is done, for
// the requests in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// shutdownKey is the context key of the channel closed when the server
// starts shutting down.
type shutdownKey struct{}

// shuttingDown returns the channel closed when the server serving ctx's
// request starts shutting down; nil (never closed) outside NewServer.
func shuttingDown(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(shutdownKey{}).(<-chan struct{})
	return ch
}

// limitRoutes applies the limits of each route before h.
func limitRoutes(h http.Handler, l ServerLimits) http.Handler {
	slots := make(chan struct{}, l.MaxConcurrentWebhooks)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, hooksPrefix) {
			limit := int64(0)
			if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/v1/") {
				limit = maxActionBody // an action's JSON
			}
			switch {
			case limit == 0 && r.ContentLength != 0:
				refuse(w, http.StatusRequestEntityTooLarge, "this endpoint takes no request body")
				return
			case r.ContentLength > limit:
				refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("an action's body is at most %d bytes", limit))
				return
			}
			if limit > 0 {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			h.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > l.MaxWebhookBody {
			refuse(w, http.StatusRequestEntityTooLarge, "body larger than the limit (server.maxWebhookBodyBytes)")
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			w.Header().Set("Retry-After", webhookRetryAfter)
			refuse(w, http.StatusServiceUnavailable, "too many webhook deliveries at once (server.maxConcurrentWebhooks); retry later")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, l.MaxWebhookBody)
		h.ServeHTTP(w, r)
	})
}

// refuse answers status and closes the connection without reading what
// the client may still send: the server would otherwise read up to 256 KiB
// of an unread body, as slowly as the client sends it.
func refuse(w http.ResponseWriter, status int, msg string) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	w.Header().Set("Connection", "close")
	http.Error(w, msg, status)
}
