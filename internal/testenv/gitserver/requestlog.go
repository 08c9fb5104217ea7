package gitserver

import (
	"net/http"
	"sync"
	"time"
)

// Request is one HTTP request the server answered.
type Request struct {
	// Method is the HTTP method, e.g. "GET".
	Method string
	// Path is the URL path, e.g. "/app.git/info/refs".
	Path string
	// Query is the raw query, e.g. "service=git-upload-pack".
	Query string
	// Status is the HTTP status code of the response.
	Status int
	// User is the authenticated user name ("anonymous" without auth,
	// "token" for a bearer token); empty when authentication failed.
	User string
	// Time is when the response was finished.
	Time time.Time
}

// requestLog is an append-only list of requests, safe for concurrent use.
type requestLog struct {
	mu   sync.Mutex
	reqs []Request
}

func (l *requestLog) add(r *http.Request, status int, user string) {
	if status == http.StatusUnauthorized {
		user = ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Status: status, User: user, Time: time.Now(),
	})
}

// Requests returns a copy of the HTTP requests answered so far, oldest first.
func (s *Server) Requests() []Request {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return append([]Request(nil), s.log.reqs...)
}

// CountRequests returns how many answered HTTP requests match. A nil match
// counts all requests.
func (s *Server) CountRequests(match func(Request) bool) int {
	n := 0
	for _, r := range s.Requests() {
		if match == nil || match(r) {
			n++
		}
	}
	return n
}

// ResetRequests forgets the requests answered so far.
func (s *Server) ResetRequests() {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	s.log.reqs = nil
}
