package githubemu

import (
	"net/http"
	"path"
	"time"
)

// Fault makes the emulator answer matching requests with an error before
// authentication and rate limiting; faulted requests are not counted
// against the rate limit.
type Fault struct {
	// Method matches the HTTP method; any method when empty.
	Method string
	// Path matches the URL path with path.Match, e.g.
	// "/repos/*/*/statuses/*"; any path when empty.
	Path string
	// Status is the response status; 500 when zero.
	Status int
	// Message is the "message" of the JSON body; "Server Error" when empty.
	Message string
	// Times is how many matching requests fail; 1 when zero.
	Times int
}

// InjectFault makes the next f.Times requests matching f fail. Faults are
// consumed in the order they were injected.
func (e *Emulator) InjectFault(f Fault) {
	f.Times = max(f.Times, 1)
	if f.Status == 0 {
		f.Status = http.StatusInternalServerError
	}
	if f.Message == "" {
		f.Message = "Server Error"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &f)
}

// takeFault returns and consumes the first fault matching r.
func (e *Emulator) takeFault(r *http.Request) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if !f.matches(r.Method, r.URL.Path) {
			continue
		}
		if f.Times--; f.Times == 0 {
			e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
		}
		return f
	}
	return nil
}

// matches reports whether a request with method and urlPath matches f.
func (f *Fault) matches(method, urlPath string) bool {
	if f.Method != "" && f.Method != method {
		return false
	}
	if f.Path == "" {
		return true
	}
	ok, _ := path.Match(f.Path, urlPath)
	return ok
}

func (f *Fault) write(w http.ResponseWriter) {
	writeError(w, f.Status, f.Message, docREST)
}

// Request is one request the emulator answered.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path, without a "/api/v3" prefix.
	Path string
	// Query is the raw query string.
	Query string
	// Status is the response status code.
	Status int
	// Identity is the authenticated login ("app:<slug>" for an app JWT),
	// or "" when the request was not authenticated.
	Identity string
	// Time is when the request was answered, by the emulator's clock.
	Time time.Time
}

func (e *Emulator) record(r *http.Request, status int, identity string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Status: status, Identity: identity, Time: e.opts.Now(),
	})
}

// Requests returns a copy of the requests answered so far, oldest first.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.log...)
}

// CountRequests returns how many answered requests have method (any when
// empty) and a path matching pattern with path.Match (any when empty).
func (e *Emulator) CountRequests(method, pattern string) int {
	f := Fault{Method: method, Path: pattern}
	n := 0
	for _, r := range e.Requests() {
		if f.matches(r.Method, r.Path) {
			n++
		}
	}
	return n
}

// ResetRequests forgets the requests answered so far.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = nil
}
