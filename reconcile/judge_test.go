package reconcile

import (
	"testing"
	"time"

	"github.com/jibe-dev/jibe/spec"
)

// No data is never success: it fails at once under inconclusive: fail, and
// at the end of the check's duration under inconclusive: retry.
func TestJudge(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	check := func(policy spec.InconclusivePolicy, duration time.Duration) *spec.Check {
		return &spec.Check{Name: "errors", Inconclusive: policy,
			Interval: &spec.Duration{Duration: time.Minute}, Duration: &spec.Duration{Duration: duration},
			CloudWatch: &spec.CloudWatchCheck{Threshold: spec.Threshold{Max: new(1.0)}}}
	}
	pass := Measurement{Value: 0.5, Passed: true}
	noData := Measurement{NoData: true}
	tests := []struct {
		name   string
		check  *spec.Check
		ms     []Measurement
		now    time.Time
		failed bool
		wait   time.Duration
		reason string
	}{
		{"one pass, duration 0", check(spec.InconclusiveFail, 0), []Measurement{pass}, t0, false, 0, ""},
		{"pass, more to measure", check(spec.InconclusiveFail, 5*time.Minute), []Measurement{pass}, t0.Add(time.Minute), false, time.Minute, "checking errors: 1 measurement so far"},
		{"pass at the end", check(spec.InconclusiveFail, 5*time.Minute), []Measurement{pass, pass}, t0.Add(5 * time.Minute), false, 0, ""},
		{"value above max", check(spec.InconclusiveFail, 5*time.Minute), []Measurement{{Value: 3.2}}, t0, true, 0, "check errors failed: value 3.2 is outside its threshold (max 1)"},
		{"no data, fail", check(spec.InconclusiveFail, 5*time.Minute), []Measurement{noData}, t0, true, 0, "check errors failed: no data (inconclusive: fail)"},
		{"no data, retry", check(spec.InconclusiveRetry, 5*time.Minute), []Measurement{noData}, t0.Add(time.Minute), false, time.Minute, "checking errors: 1 measurement so far"},
		{"no data until the end, retry", check(spec.InconclusiveRetry, 5*time.Minute), []Measurement{noData, noData}, t0.Add(5 * time.Minute), true, 0, "check errors failed: still no data after 5m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := judge(tt.check, StepProgress{Started: t0, Measurements: tt.ms}, tt.now)
			if got.failed != tt.failed || got.wait != tt.wait || got.reason != tt.reason {
				t.Errorf("judge = %+v, want failed=%v wait=%v reason=%q", got, tt.failed, tt.wait, tt.reason)
			}
		})
	}
}
