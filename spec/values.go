package spec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

// Duration is a length of time written as a Go duration string such as
// "30s", "5m" or "1h30m". Negative durations are rejected when decoded.
type Duration struct{ time.Duration }

// UnmarshalText parses a duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: write a number with a unit, such as 30s, 5m or 1h30m", s)
	}
	if v < 0 {
		return fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration in Go's format.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// JSONSchema describes a duration string.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Pattern:     `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`,
		Description: "A duration such as 30s, 5m or 1h30m.",
	}
}

// Percent is a share of traffic from 0 to 100, written as a number (10,
// 12.5) or with a percent sign ("10%").
type Percent float64

// UnmarshalText parses "10", "12.5" or "10%".
func (p *Percent) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(string(b)), "%"))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("invalid percentage %q: write a number from 0 to 100, such as 10 or 10%%", string(b))
	}
	if v < 0 || v > 100 {
		return fmt.Errorf("invalid percentage %q: must be from 0 to 100", string(b))
	}
	*p = Percent(v)
	return nil
}

// MarshalJSON writes the percentage as a number.
func (p Percent) MarshalJSON() ([]byte, error) { return json.Marshal(float64(p)) }

// UnmarshalJSON reads a number or a string such as "10%".
func (p *Percent) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return p.UnmarshalText([]byte(s))
	}
	return p.UnmarshalText(b)
}

// String formats the percentage with a percent sign.
func (p Percent) String() string { return strconv.FormatFloat(float64(p), 'f', -1, 64) + "%" }

// JSONSchema describes a percentage.
func (Percent) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		OneOf: []*jsonschema.Schema{
			{Type: "number", Minimum: json.Number("0"), Maximum: json.Number("100")},
			{Type: "string", Pattern: `^[0-9]+(\.[0-9]+)?%$`},
		},
		Description: "A percentage from 0 to 100, such as 10 or \"10%\".",
	}
}
