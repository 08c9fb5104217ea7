// Package checks measures the checks of verify steps and canary analyses:
// HTTP requests, CloudWatch metric and metric math queries, CloudWatch
// alarm states and Prometheus queries. New wires one checker per kind
// behind the reconcile.Checker the engine calls.
package checks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// maxBody is how much of a response body an HTTP check reads.
const maxBody = 1 << 20

// HTTP measures HTTP checks: it sends the request and passes when the
// status is one of the expected ones and the body holds the expected text.
// A request that gets no response fails the measurement: the service under
// test is not answering.
type HTTP struct {
	// Client sends the requests. Default: a client without cookies whose
	// timeout is each check's. When the check input limits hosts
	// (CheckInput.Hosts), requests go through a copy of Client's
	// *http.Transport (or of the default one) that uses no proxy and whose
	// dialer refuses addresses the source may not reach, and every
	// redirect's URL is checked like the first.
	Client *http.Client
}

var _ reconcile.Checker = (*HTTP)(nil)

// Measure sends c's request once. vars fill ${rollout.*} placeholders.
func (h *HTTP) Measure(ctx context.Context, c *spec.Check, in reconcile.CheckInput) (reconcile.Measurement, error) {
	vars := in.Vars
	hc := c.HTTP
	if hc == nil {
		return reconcile.Measurement{}, reconcile.Stalled(fmt.Errorf("check %q is not an HTTP check", c.Name))
	}
	ctx, cancel := context.WithTimeout(ctx, hc.Timeout.Duration)
	defer cancel()
	req, err := h.request(ctx, hc, vars)
	if err != nil {
		return reconcile.Measurement{}, reconcile.Stalled(err)
	}
	client := h.client()
	if in.Hosts != nil {
		if err := in.Hosts.AllowURL(req.URL); err != nil {
			return reconcile.Measurement{}, reconcile.Stalled(fmt.Errorf("check %s: %w", c.Name, err))
		}
		client = guarded(client, in.Hosts)
		defer client.CloseIdleConnections()
	}
	resp, err := client.Do(req)
	if err != nil {
		return reconcile.Measurement{Detail: fmt.Sprintf("%s %s: no response: %v", hc.Method, req.URL.Redacted(), cause(err))}, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return judgeResponse(hc, resp.StatusCode, body), nil
}

func (h *HTTP) client() *http.Client {
	if h.Client != nil {
		return h.Client
	}
	return http.DefaultClient
}

// maxRedirects is how many redirects a guarded client follows, as
// net/http's default.
const maxRedirects = 10

// guarded returns a copy of base whose connections and redirects are
// limited to what hosts allows. Its transport is its own: a connection
// made for one source is never reused for another.
func guarded(base *http.Client, hosts reconcile.CheckHosts) *http.Client {
	c := *base
	t, ok := base.Transport.(*http.Transport)
	if !ok {
		t = http.DefaultTransport.(*http.Transport)
	}
	t = t.Clone()
	t.Proxy = nil
	t.DialTLSContext = nil
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			addr, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("connection to %s refused: not an address", address)
			}
			return hosts.AllowAddr(addr)
		}}).DialContext
	c.Transport = t
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if err := hosts.AllowURL(req.URL); err != nil {
			return fmt.Errorf("redirect refused: %w", err)
		}
		if base.CheckRedirect != nil {
			return base.CheckRedirect(req, via)
		}
		return nil
	}
	return &c
}

func (h *HTTP) request(ctx context.Context, hc *spec.HTTPCheck, vars map[string]string) (*http.Request, error) {
	var body io.Reader
	if hc.Body != "" {
		body = strings.NewReader(expand(hc.Body, vars))
	}
	req, err := http.NewRequestWithContext(ctx, hc.Method, expand(hc.URL, vars), body)
	if err != nil {
		return nil, fmt.Errorf("building the HTTP check's request: %w", err)
	}
	for k, v := range hc.Headers {
		req.Header.Set(k, expand(v, vars))
	}
	req.Header.Set("User-Agent", "jibe-check/1")
	return req, nil
}

// judgeResponse decides a measurement from a response.
func judgeResponse(hc *spec.HTTPCheck, status int, body []byte) reconcile.Measurement {
	m := reconcile.Measurement{Value: float64(status)}
	switch {
	case !slices.Contains(hc.ExpectStatus, status):
		m.Detail = fmt.Sprintf("status %d, want %s", status, statusList(hc.ExpectStatus))
	case hc.ExpectBody != "" && !bytes.Contains(body, []byte(hc.ExpectBody)):
		m.Detail = fmt.Sprintf("status %d but the body does not contain %q", status, hc.ExpectBody)
	default:
		m.Passed = true
		m.Detail = fmt.Sprintf("status %d", status)
	}
	return m
}

func statusList(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, " or ")
}

// expand fills ${rollout.*} placeholders.
func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	return s
}

// cause drops the URL that net/http puts in front of its errors.
func cause(err error) error {
	type unwrapper interface{ Unwrap() error }
	if u, ok := err.(unwrapper); ok && u.Unwrap() != nil {
		return u.Unwrap()
	}
	return err
}
