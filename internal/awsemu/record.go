package awsemu

import (
	"strings"
	"time"
)

// Request is the record of one API call the emulator served.
type Request struct {
	// Time is the emulated time of the call.
	Time time.Time
	// Service is the SigV4 signing name.
	Service string
	// Operation is the API operation.
	Operation string
	// Account and Region are the caller's scope.
	Account string
	Region  string
	// Status is the HTTP status of the response.
	Status int
	// Write reports whether the operation changes state (see IsWrite).
	Write bool
}

// readPrefixes are the operation prefixes of calls that do not change state.
var readPrefixes = []string{"Describe", "List", "Get", "BatchGet", "Search", "Lookup", "Head", "Discover"}

// readOnly lists state-neutral operations that have no read prefix.
var readOnly = map[string]bool{"AssumeRole": true}

// IsWrite reports whether an operation changes emulated state. Reads are
// the Describe*, List*, Get*, BatchGet*, Search*, Lookup*, Head* and
// Discover* calls plus STS AssumeRole; Invoke and PutMetricData count as
// writes.
func IsWrite(operation string) bool {
	if readOnly[operation] {
		return false
	}
	for _, p := range readPrefixes {
		if strings.HasPrefix(operation, p) {
			return false
		}
	}
	return true
}

// Requests returns a copy of every call served so far, in order.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.requests...)
}

// WriteCalls returns the calls that changed state, optionally only those of
// the given services (signing names).
func (e *Emulator) WriteCalls(services ...string) []Request {
	var out []Request
	for _, r := range e.Requests() {
		if r.Write && (len(services) == 0 || contains(services, r.Service)) {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the recorded calls, e.g. between test phases.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	e.requests = nil
	e.mu.Unlock()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
