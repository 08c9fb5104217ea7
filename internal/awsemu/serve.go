package awsemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// ServeHTTP serves one AWS API call.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, ControlPrefix) {
		e.control(w, r)
		return
	}
	body, err := protocol.ReadBody(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	svc, c := e.identify(r, body)
	if svc == nil {
		http.Error(w, "unknown service", http.StatusBadRequest)
		return
	}
	if perr := resolveOperation(svc, c); perr != nil {
		e.mu.Lock()
		c.RequestID = e.requestID()
		e.mu.Unlock()
		svc.Codec().WriteError(w, c, perr)
		return
	}
	e.serve(w, svc, c)
}

// identify finds the service from the SigV4 credential scope, falling back
// to the protocol's own markers, and builds the call.
func (e *Emulator) identify(r *http.Request, body []byte) (service, *protocol.Call) {
	c := &protocol.Call{Body: body, HTTP: r, Region: "us-east-1"}
	cred, ok := protocol.ParseAuthorization(r.Header.Get("Authorization"))
	if ok {
		c.Service, c.Region, c.AccessKey = cred.Service, cred.Region, cred.AccessKey
	}
	svc := e.services[c.Service]
	if svc == nil {
		svc = e.byMarker(r)
	}
	if svc != nil {
		c.Service = svc.Name()
	}
	return svc, c
}

// byMarker finds the service of an unsigned request from X-Amz-Target or
// the rpcv2 path.
func (e *Emulator) byMarker(r *http.Request) service {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		for prefix, s := range e.targets {
			if strings.HasPrefix(t, prefix) {
				return s
			}
		}
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/service/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		return e.rpcv2[name]
	}
	return nil
}

// resolveOperation fills c.Operation (and c.Form or c.Params) according to
// the service's protocol.
func resolveOperation(svc service, c *protocol.Call) *protocol.Error {
	switch svc.Kind() {
	case protocol.KindJSON11:
		_, c.Operation, _ = strings.Cut(c.HTTP.Header.Get("X-Amz-Target"), ".")
	case protocol.KindCBOR:
		if i := strings.LastIndex(c.HTTP.URL.Path, "/operation/"); i >= 0 {
			c.Operation = c.HTTP.URL.Path[i+len("/operation/"):]
		}
	case protocol.KindQuery:
		form, err := url.ParseQuery(string(c.Body))
		if err != nil {
			return protocol.Errorf("MalformedQueryString", "%v", err)
		}
		c.Form = form
		c.Operation = form.Get("Action")
	case protocol.KindRESTJSON, protocol.KindRESTXML:
		if rt, ok := svc.(router); ok {
			rt.Route(c)
		}
	}
	if c.Operation == "" {
		return protocol.StatusErrorf(http.StatusNotFound, "UnknownOperationException", "unknown operation %s %s", c.HTTP.Method, c.HTTP.URL.Path)
	}
	return nil
}

// serve runs the call against the shared state and writes the response.
func (e *Emulator) serve(w http.ResponseWriter, svc service, c *protocol.Call) {
	e.mu.Lock()
	f, faulted := e.takeFault(c.Service, c.Operation)
	e.mu.Unlock()
	if faulted && f.Kind == Latency {
		e.delay(c.HTTP.Context(), f.Delay)
		faulted = false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settle()
	c.Now = e.clock.Now()
	c.RequestID = e.requestID()
	c.Account = e.keys.Account(c.AccessKey)
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if faulted {
		svc.Codec().WriteError(rw, c, faultError(c.Service, c.Operation, f.Kind))
	} else {
		e.dispatch(rw, svc, c)
	}
	e.record(c, rw.status)
}

func (e *Emulator) dispatch(w http.ResponseWriter, svc service, c *protocol.Call) {
	if raw, ok := svc.(rawServer); ok {
		raw.ServeRaw(w, c)
		return
	}
	out, err := svc.Handle(c)
	if err != nil {
		svc.Codec().WriteError(w, c, protocol.AsError(err))
		return
	}
	svc.Codec().WriteResult(w, c, out)
}

// delay waits d of real time, or until the request is cancelled.
func (e *Emulator) delay(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (e *Emulator) record(c *protocol.Call, status int) {
	e.requests = append(e.requests, Request{
		Time: c.Now, Service: c.Service, Operation: c.Operation,
		Account: c.Account, Region: c.Region, Status: status, Write: IsWrite(c.Operation),
	})
	e.log.Debug("aws call", "service", c.Service, "operation", c.Operation,
		"account", c.Account, "region", c.Region, "status", status)
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status code and writes it.
func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Start serves the emulator on a random loopback port and returns its base
// URL, e.g. "http://127.0.0.1:41234". Close stops it.
func (e *Emulator) Start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	e.mu.Lock()
	e.server = srv
	e.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the server started by Start; it is a no-op otherwise.
func (e *Emulator) Close() error {
	e.mu.Lock()
	srv := e.server
	e.server = nil
	e.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Close(); err != nil {
		return fmt.Errorf("close emulator: %w", err)
	}
	return nil
}

// ListenAndServe runs an emulator on addr until ctx is cancelled, then
// shuts it down gracefully. It always returns a non-nil error; after a
// cancellation it is ctx.Err().
func ListenAndServe(ctx context.Context, addr string, opts Options) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("aws emulator: %w", err)
	}
	return Serve(ctx, ln, opts)
}

// Serve serves a new emulator on ln until ctx is cancelled. Listening
// first lets a caller report a busy port before announcing the emulator.
func Serve(ctx context.Context, ln net.Listener, opts Options) error {
	srv := &http.Server{Handler: New(opts), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("aws emulator: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("aws emulator shutdown: %w", err)
	}
	return ctx.Err()
}
