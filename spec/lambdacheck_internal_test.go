package spec

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The deprecation table is well formed: its days parse and blocks come in
// order, and every runtime it or a message recommends is one the SDK knows
// and not itself deprecated.
func TestDeprecationTable(t *testing.T) {
	recommended := strings.Split(strings.NewReplacer(" or ", ", ").Replace(lambdaSuggestedRuntimes), ", ")
	for name, lc := range deprecatedRuntimes {
		var days []time.Time
		for _, s := range []string{lc.deprecated, lc.createBlock, lc.updateBlock} {
			d, err := time.Parse(lambdaDateLayout, s)
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			days = append(days, d)
		}
		if days[2].Before(days[1]) {
			t.Errorf("%s: updates blocked before creation", name)
		}
		recommended = append(recommended, lc.successor)
	}
	for _, r := range recommended {
		if _, deprecated := deprecatedRuntimes[r]; deprecated || !slices.Contains(lambdaRuntimes, r) {
			t.Errorf("%s is recommended but deprecated or unknown to the SDK", r)
		}
	}
}
