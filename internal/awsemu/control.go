package awsemu

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// ControlPrefix is the path under which the emulator serves its control
// endpoints (no AWS request path starts with it: S3 bucket names cannot
// hold an underscore). They answer loopback clients only.
const ControlPrefix = "/_jibe/"

// Behavior is the body of the control endpoints that make artifacts
// misbehave.
type Behavior struct {
	// Function and Version name a Lambda version (POST
	// /_jibe/lambda/behavior).
	Function string `json:"function,omitempty"`
	Version  string `json:"version,omitempty"`
	// Image names a container image or AMI (POST /_jibe/image/behavior).
	Image string `json:"image,omitempty"`
	// Broken makes invocations fail (instances fail health checks).
	Broken bool `json:"broken,omitempty"`
	// ErrorRate is the share of requests, in [0, 1], that fail.
	ErrorRate float64 `json:"errorRate,omitempty"`
}

// FaultRequest is the body of POST /_jibe/faults: a Fault in JSON.
type FaultRequest struct {
	// Service is the SigV4 signing name ("ecs", "lambda", "monitoring",
	// ...); empty matches every service.
	Service string `json:"service,omitempty"`
	// Operation is the API operation ("UpdateService"); empty matches
	// every operation.
	Operation string `json:"operation,omitempty"`
	// Kind is Throttle, ServerError, Latency, Deny or Conflict.
	Kind string `json:"kind"`
	// Count is how many calls fail; 0 = until DELETE /_jibe/faults.
	Count int `json:"count,omitempty"`
	// Delay is the added latency of a Latency fault, e.g. "2s".
	Delay string `json:"delay,omitempty"`
}

// AdvanceRequest is the body of POST /_jibe/time/advance.
type AdvanceRequest struct {
	// Duration is how far to move emulated time, e.g. "5m" (positive).
	Duration string `json:"duration"`
}

// TimeResponse is the answer of the time endpoints.
type TimeResponse struct {
	// Now is the emulated time after the request.
	Now time.Time `json:"now"`
}

// control serves the control endpoints, for `jibe emulator aws` users
// (demos, scripts) who cannot call the Go API:
//
//	POST   /_jibe/lambda/behavior {"function": "orders", "version": "2", "errorRate": 0.5}
//	POST   /_jibe/image/behavior  {"image": "repo/app:v2", "broken": true}
//	POST   /_jibe/faults          {"service": "ecs", "operation": "UpdateService", "kind": "Throttle", "count": 3}
//	DELETE /_jibe/faults
//	POST   /_jibe/time/advance    {"duration": "5m"}
//	POST   /_jibe/ecr/push        {"image": "111111111111.dkr.ecr.us-east-1.amazonaws.com/web:1.2.0"}
//	GET    /_jibe/time
func (e *Emulator) control(w http.ResponseWriter, r *http.Request) {
	if !loopback(r.RemoteAddr) {
		http.Error(w, "the control endpoints answer loopback clients only", http.StatusForbidden)
		return
	}
	endpoint := strings.TrimPrefix(r.URL.Path, ControlPrefix)
	var err error
	switch {
	case endpoint == "time" && r.Method == http.MethodGet:
		writeJSON(w, TimeResponse{Now: e.Now().UTC()})
		return
	case endpoint == "faults" && r.Method == http.MethodDelete:
		e.ClearFaults()
	case r.Method != http.MethodPost:
		http.Error(w, "use POST (GET /_jibe/time, DELETE /_jibe/faults)", http.StatusMethodNotAllowed)
		return
	case endpoint == "faults":
		err = e.controlFault(r)
	case endpoint == "time/advance":
		err = e.controlAdvance(w, r)
		if err == nil {
			return
		}
	case endpoint == "ecr/push":
		err = e.controlPush(w, r)
		if err == nil {
			return
		}
	default:
		err = e.controlBehavior(endpoint, r)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// loopback reports whether a request's remote address is a loopback one.
func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body, refusing unknown fields.
func decode(r *http.Request, v any) error {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("decode the request body: %w", err)
	}
	return nil
}

func (e *Emulator) controlBehavior(endpoint string, r *http.Request) error {
	var b Behavior
	if err := decode(r, &b); err != nil {
		return err
	}
	return e.setBehavior(endpoint, b)
}

// faultKinds maps the kind names of the control endpoint to FaultKind.
var faultKinds = map[string]FaultKind{"Throttle": Throttle, "ServerError": ServerError, "Latency": Latency, "Deny": Deny, "Conflict": Conflict}

func (e *Emulator) controlFault(r *http.Request) error {
	var fr FaultRequest
	if err := decode(r, &fr); err != nil {
		return err
	}
	kind, ok := faultKinds[fr.Kind]
	if !ok {
		return fmt.Errorf("unknown fault kind %q: use Throttle, ServerError, Latency, Deny or Conflict", fr.Kind)
	}
	f := Fault{Service: fr.Service, Operation: fr.Operation, Kind: kind, Count: fr.Count}
	if fr.Delay != "" {
		d, err := time.ParseDuration(fr.Delay)
		if err != nil || d < 0 {
			return fmt.Errorf("delay %q is not a duration such as \"2s\"", fr.Delay)
		}
		f.Delay = d
	}
	if kind == Latency && f.Delay == 0 {
		return fmt.Errorf("a Latency fault needs a delay, such as \"2s\"")
	}
	e.Inject(f)
	return nil
}

func (e *Emulator) controlAdvance(w http.ResponseWriter, r *http.Request) error {
	var ar AdvanceRequest
	if err := decode(r, &ar); err != nil {
		return err
	}
	d, err := time.ParseDuration(ar.Duration)
	if err != nil || d <= 0 {
		return fmt.Errorf("duration %q is not a positive duration such as \"5m\"", ar.Duration)
	}
	e.Advance(d)
	writeJSON(w, TimeResponse{Now: e.Now().UTC()})
	return nil
}

// setBehavior applies b to the artifact the endpoint names.
func (e *Emulator) setBehavior(endpoint string, b Behavior) error {
	if b.ErrorRate < 0 || b.ErrorRate > 1 {
		return fmt.Errorf("errorRate %g is outside [0, 1]", b.ErrorRate)
	}
	switch {
	case endpoint == "lambda/behavior" && b.Function != "" && b.Version != "":
		if b.Broken {
			e.MarkFunctionVersionBroken(b.Function, b.Version)
		}
		e.SetFunctionVersionErrorRate(b.Function, b.Version, b.ErrorRate)
	case endpoint == "image/behavior" && b.Image != "":
		if b.Broken {
			e.MarkImageBroken(b.Image)
		}
		e.SetImageErrorRate(b.Image, b.ErrorRate)
	default:
		return fmt.Errorf("unknown control request %q: POST lambda/behavior with function and version, image/behavior with image, faults, or time/advance", endpoint)
	}
	return nil
}
