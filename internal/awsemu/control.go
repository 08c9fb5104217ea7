package awsemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ControlPrefix is the path under which the emulator serves its control
// endpoints (no AWS request path starts with it: S3 bucket names cannot
// hold an underscore).
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

// control serves the control endpoints, for `jibe emulator aws` users
// (demos, scripts) who cannot call the Go API:
//
//	POST /_jibe/lambda/behavior {"function": "orders", "version": "2", "errorRate": 0.5}
//	POST /_jibe/image/behavior  {"image": "repo/app:v2", "broken": true}
func (e *Emulator) control(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	var b Behavior
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		http.Error(w, "decode the behaviour: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := e.setBehavior(strings.TrimPrefix(r.URL.Path, ControlPrefix), b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
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
		return fmt.Errorf("unknown control request %q: POST lambda/behavior with function and version, or image/behavior with image", endpoint)
	}
	return nil
}
