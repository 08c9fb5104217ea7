package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/config"
)

const freezeBase = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
server:
  tokens:
    - {name: ci, scope: write, secret: {env: CI_TOKEN}}
    - {name: viewer, scope: read, secret: {env: VIEWER_TOKEN}}
sources:
  - name: shop
    dir: {path: apps}
    allow: {accounts: [prod]}
aws:
  accounts:
    - {name: prod, region: eu-west-1}
`

// A freeze window is open from each time its schedule names for its
// duration, in UTC or the zone CRON_TZ names, for what it covers.
func TestFreezeWindowOpenAt(t *testing.T) {
	c, err := config.Parse("agent.yaml", []byte(freezeBase+`freezeWindows:
  - {schedule: "0 18 * * 5", duration: 62h, environments: [prod-*], reason: weekend}
  - {schedule: "CRON_TZ=America/New_York 0 9 * * *", duration: 1h, sources: [shop], applications: [checkout]}
`))
	if err != nil {
		t.Fatal(err)
	}
	friday := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC) // a Friday
	for _, tc := range []struct {
		at       time.Time
		app, env string
		window   int
		until    time.Time
	}{
		{friday.Add(-time.Minute), "web", "prod-eu", -1, time.Time{}},
		{friday, "web", "prod-eu", 0, friday.Add(62 * time.Hour)},
		{friday.Add(61 * time.Hour), "web", "prod-eu", 0, friday.Add(62 * time.Hour)},
		{friday.Add(62 * time.Hour), "web", "prod-eu", -1, time.Time{}},
		{friday.Add(time.Hour), "web", "staging", -1, time.Time{}},
		// 09:30 in New York on 2026-12-07 is 14:30 UTC.
		{time.Date(2026, 12, 7, 14, 30, 0, 0, time.UTC), "checkout", "staging", 1, time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)},
		{time.Date(2026, 12, 7, 14, 30, 0, 0, time.UTC), "web", "staging", -1, time.Time{}},
	} {
		i, until := c.Frozen("shop", tc.app, tc.env, tc.at)
		if i != tc.window || !until.Equal(tc.until) {
			t.Errorf("Frozen(%s, %s, %s) = %d until %s; want %d until %s", tc.app, tc.env, tc.at, i, until, tc.window, tc.until)
		}
	}
}

// A window whose schedule fires more often than it lasts stays open, and
// closes one duration after the latest firing.
func TestFreezeWindowOfFrequentFirings(t *testing.T) {
	c, err := config.Parse("agent.yaml", []byte(freezeBase+`freezeWindows:
  - {schedule: "*/5 * * * *", duration: 62h, applications: [web]}
  - {schedule: "0 0 1 1 *", duration: 2h, applications: [yearly]}
`))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 4, 18, 7, 30, 0, time.UTC)
	if i, until := c.Frozen("shop", "web", "prod", at); i != 0 || !until.Equal(time.Date(2026, 12, 7, 8, 5, 0, 0, time.UTC)) {
		t.Errorf("Frozen = %d until %s; want 0 until 2026-12-07 08:05 (18:05 + 62h)", i, until)
	}
	newYear := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for at, want := range map[time.Time]int{newYear.Add(-time.Second): -1, newYear: 1, newYear.Add(119 * time.Minute): 1, newYear.Add(2 * time.Hour): -1} {
		if i, _ := c.Frozen("shop", "yearly", "prod", at); i != want {
			t.Errorf("Frozen(yearly, %s) = %d; want %d", at, i, want)
		}
	}
}

// Checking a window costs a few schedule steps however often it fires.
func BenchmarkFreezeWindowOpenAt(b *testing.B) {
	c, err := config.Parse("agent.yaml", []byte(freezeBase+`freezeWindows:
  - {schedule: "* * * * *", duration: 62h, applications: [web]}
`))
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 12, 4, 18, 7, 30, 0, time.UTC)
	for b.Loop() {
		if i, _ := c.Frozen("shop", "web", "prod", at); i != 0 {
			b.Fatal("not frozen")
		}
	}
}

// Bad freeze windows and break-glass settings are refused with
// file:line and what to write instead.
func TestFreezeWindowAndBreakGlassValidation(t *testing.T) {
	src := strings.Replace(freezeBase, "    allow: {accounts: [prod]}\n", "    allow: {accounts: [prod]}\n    breakGlass: {environments: [production], tokens: [viewer, nobody]}\n", 1) + `freezeWindows:
  - {schedule: "every friday", duration: 0s, sources: [billing], environments: ["[prod"]}
`
	_, err := config.Parse("agent.yaml", []byte(src))
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{
		"agent.yaml:11:", "sources[0].breakGlass.tokens[0]: the token has scope read",
		"sources[0].breakGlass.tokens[1]: no token of server.tokens has this name",
		"agent.yaml:16:", "freezeWindows[0].schedule: the value is not a cron schedule",
		"freezeWindows[0].duration: must be more than 0",
		"freezeWindows[0].sources[0]: no source has this name",
		"freezeWindows[0].environments[0]: the value is not a glob",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

// Break-glass is allowed only where the source enables it, for the
// tokens it names.
func TestBreakGlassAllows(t *testing.T) {
	s := config.Source{Name: "shop"}
	if err := s.BreakGlassAllows("production", "ci"); err == nil || !strings.Contains(err.Error(), "not enabled for source shop") {
		t.Errorf("no breakGlass: %v", err)
	}
	s.BreakGlass = &config.BreakGlass{Environments: []string{"prod-*"}, Tokens: []string{"oncall"}}
	for _, tc := range []struct{ env, token, want string }{
		{"prod-eu", "oncall", ""},
		{"staging", "oncall", "not enabled for environment staging"},
		{"prod-eu", "ci", "token ci may not use break-glass"},
	} {
		err := s.BreakGlassAllows(tc.env, tc.token)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("BreakGlassAllows(%s, %s) = %v; want %q", tc.env, tc.token, err, tc.want)
		}
	}
}
