package spec_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/spec"
)

// stepsText writes canary steps as "10 1m0s 20 1m0s ...".
func stepsText(steps []spec.CanaryStep) string {
	var out []string
	for _, s := range steps {
		switch {
		case s.SetWeight != nil:
			out = append(out, fmt.Sprint(float64(*s.SetWeight)))
		case s.Pause != nil:
			out = append(out, s.Pause.Duration.String())
		default:
			out = append(out, "?")
		}
	}
	return strings.Join(out, " ")
}

func TestLinearExpandsToSetWeightAndPauseSteps(t *testing.T) {
	for _, tc := range []struct {
		weight   spec.Percent
		interval time.Duration
		want     string
	}{
		{10, time.Minute, "10 1m0s 20 1m0s 30 1m0s 40 1m0s 50 1m0s 60 1m0s 70 1m0s 80 1m0s 90 1m0s"},
		{25, 5 * time.Minute, "25 5m0s 50 5m0s 75 5m0s"},
		{30, time.Second, "30 1s 60 1s 90 1s"},
		{50, time.Hour, "50 1h0m0s"},
		{99, time.Minute, "99 1m0s"},
		{12.5, time.Minute, "12.5 1m0s 25 1m0s 37.5 1m0s 50 1m0s 62.5 1m0s 75 1m0s 87.5 1m0s"},
		{0, time.Minute, ""},
		{100, time.Minute, ""},
		{10, 0, ""},
	} {
		l := spec.Linear{StepWeight: tc.weight, Interval: spec.Duration{Duration: tc.interval}}
		if got := stepsText(l.Steps()); got != tc.want {
			t.Errorf("linear %v every %v = %q, want %q", tc.weight, tc.interval, got, tc.want)
		}
	}
}
