package demo

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	demoapp "github.com/jibe-dev/jibe/examples/demo"
	"github.com/jibe-dev/jibe/spec"
)

// load loads checkout from the demo's files with jibe.yaml replaced.
func load(t *testing.T, jibeYAML string) *spec.App {
	t.Helper()
	files, err := appFiles()
	if err != nil {
		t.Fatal(err)
	}
	files[specPath] = jibeYAML
	fsys := fstest.MapFS{}
	for p, c := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(c)}
	}
	sub, err := fs.Sub(fsys, appName)
	if err != nil {
		t.Fatal(err)
	}
	app, err := spec.LoadFS(sub, appName)
	if err != nil {
		t.Fatalf("the edited spec does not load:\n%v\n%s", err, jibeYAML)
	}
	return app
}

func environment(app *spec.App, name string) *spec.Environment {
	for i := range app.Spec.Environments {
		if app.Spec.Environments[i].Name == name {
			return &app.Spec.Environments[i]
		}
	}
	return nil
}

// The demo's edits of jibe.yaml keep it valid: variables from the
// emulator, the bootstrap without production's gate, and release bumps.
func TestEditSpec(t *testing.T) {
	files, err := appFiles()
	if err != nil {
		t.Fatal(err)
	}
	orig := files[specPath]
	vars := map[string]map[string]string{"production": {"cluster": "prod-emu", "newVar": "x"}}

	boot, err := editSpec(orig, specEdit{Vars: vars, Ungated: true})
	if err != nil {
		t.Fatal(err)
	}
	prod := environment(load(t, boot), "production")
	if prod.Approval != nil || prod.Strategy.Kind() != spec.StrategyRolling {
		t.Errorf("bootstrap production: approval %+v, strategy %s; want none and rolling", prod.Approval, prod.Strategy.Kind())
	}
	if prod.Variables["cluster"] != "prod-emu" || prod.Variables["newVar"] != "x" || prod.Variables["accountId"] != productionAccount {
		t.Errorf("production variables = %v", prod.Variables)
	}

	gated, err := editSpec(orig, specEdit{Vars: vars})
	if err != nil {
		t.Fatal(err)
	}
	bumped, err := editSpec(gated, specEdit{Version: "1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	app := load(t, bumped)
	if got := app.Spec.Artifacts["web"].Image; got != image("1.1.0") {
		t.Errorf("image = %q, want %q", got, image("1.1.0"))
	}
	if prod := environment(app, "production"); prod.Approval == nil || prod.Strategy.Kind() != spec.StrategyCanary {
		t.Errorf("gated production lost its gate: %+v", prod)
	}
	if diff := lineDiff(gated, bumped); diff != 1 {
		t.Errorf("a release bump changes %d lines, want 1", diff)
	}
	if !strings.Contains(bumped, "# A release is this one line.") {
		t.Error("comments were dropped")
	}
}

func lineDiff(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(al) != len(bl) {
		return -1
	}
	n := 0
	for i := range al {
		if al[i] != bl[i] {
			n++
		}
	}
	return n
}

func TestDimension(t *testing.T) {
	lb := "arn:aws:elasticloadbalancing:eu-west-1:222222222222:loadbalancer/app/production/8e4497da625e2d8a"
	tg := "arn:aws:elasticloadbalancing:eu-west-1:222222222222:targetgroup/checkout-green/c1d2e3f4a5b6c7d8"
	if got := dimension(lb, ":loadbalancer/"); got != "app/production/8e4497da625e2d8a" {
		t.Errorf("load balancer dimension = %q", got)
	}
	if got := dimension(tg, ":"); got != "targetgroup/checkout-green/c1d2e3f4a5b6c7d8" {
		t.Errorf("target group dimension = %q", got)
	}
}

// flag is an outcome that a test turns on.
type flag struct{ on chan struct{} }

func newFlag() *flag { return &flag{on: make(chan struct{})} }

func (f *flag) expectation(what string) Expectation {
	return Expectation{What: what, Check: func(context.Context) (bool, string) {
		select {
		case <-f.on:
			return true, ""
		default:
			return false, what + " is off"
		}
	}}
}

// The runner plays steps in order, checks expectations in order, and
// reports what it expected and saw when a deadline passes.
func TestRunner(t *testing.T) {
	var out bytes.Buffer
	r := &runner{out: &printer{w: &out, start: time.Now()}, poll: time.Millisecond}
	first, second, never := newFlag(), newFlag(), newFlag()
	var order []string
	steps := []Step{
		{Title: "one", Do: func(context.Context) error {
			order = append(order, "one")
			close(second.on) // met, but only counted once first is
			go close(first.on)
			return nil
		}, Expect: []Expectation{first.expectation("first"), second.expectation("second")}},
		{Title: "two", Deadline: 20 * time.Millisecond, Expect: []Expectation{never.expectation("never"), first.expectation("after")}},
		{Title: "three", Do: func(context.Context) error { order = append(order, "three"); return nil }},
	}
	err := r.run(context.Background(), steps)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "two" || len(se.Missing) != 2 {
		t.Fatalf("run = %v, want a StepError for step two with two missing", err)
	}
	if se.Missing[0].Seen != "never is off" || !strings.Contains(se.Missing[1].Seen, "not checked") {
		t.Errorf("missing = %+v", se.Missing)
	}
	if strings.Join(order, ",") != "one" {
		t.Errorf("steps run: %v, want only one", order)
	}
	text := out.String()
	if i, j := strings.Index(text, "✓ first"), strings.Index(text, "✓ second"); i < 0 || j < i {
		t.Errorf("expectations not printed in order:\n%s", text)
	}
	if !strings.Contains(err.Error(), "expected: never\n      seen: never is off") {
		t.Errorf("error = %v", err)
	}
}

// An action's failure stops the story with that error.
func TestRunnerActionFails(t *testing.T) {
	boom := errors.New("boom")
	r := &runner{out: &printer{w: &bytes.Buffer{}, start: time.Now()}, poll: time.Millisecond}
	err := r.run(context.Background(), []Step{{Title: "fails", Do: func(context.Context) error { return boom }}})
	if !errors.Is(err, boom) {
		t.Errorf("run = %v, want %v", err, boom)
	}
}

// The owner turns a Fatalf of the Git server's helpers into an error.
func TestOwnerDo(t *testing.T) {
	o := &owner{dir: t.TempDir()}
	ran := false
	o.Cleanup(func() { ran = true })
	if err := o.Do(func() { o.Fatalf("gitserver: %s", "broken") }); err == nil || err.Error() != "gitserver: broken" {
		t.Errorf("Do = %v", err)
	}
	if err := o.Do(func() {}); err != nil {
		t.Errorf("Do = %v", err)
	}
	o.close()
	if !ran {
		t.Error("cleanups did not run")
	}
}

func TestSlackMessage(t *testing.T) {
	s := newSlackReceiver()
	for _, body := range []string{`{"text":"checkout rolled back"}`,
		`{"blocks":[{"text":{"text":"*checkout*"}},{"fields":[{"text":"production"}]}]}`} {
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/slack", strings.NewReader(body)))
	}
	if got := strings.Join(s.Messages(), "; "); got != "checkout rolled back; *checkout* | production" {
		t.Errorf("messages = %q", got)
	}
}

// quote, the demo's Lambda application, loads with the canary the story
// relies on, its function zipped from src/, and the release line the
// story edits.
func TestQuoteApplication(t *testing.T) {
	files := map[string]string{}
	err := fs.WalkDir(demoapp.Files, quoteName, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(demoapp.Files, p)
		files[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(files[quoteSource], quoteVersion) {
		t.Errorf("%s has no line %s", quoteSource, quoteVersion)
	}
	fsys := fstest.MapFS{}
	for p, c := range files {
		fsys[strings.TrimPrefix(p, quoteName+"/")] = &fstest.MapFile{Data: []byte(c)}
	}
	app, err := spec.LoadFS(fsys, quoteName)
	if err != nil {
		t.Fatal(err)
	}
	prod := environment(app, "production")
	if prod == nil || prod.Strategy.Kind() != spec.StrategyCanary || prod.Strategy.Canary.Steps[0].SetWeight == nil {
		t.Fatalf("production: %+v, want a canary starting with setWeight", prod)
	}
	env, err := app.Render("production")
	if err != nil {
		t.Fatal(err)
	}
	if fn := env.Targets[0].Function; fn == nil || len(fn.Code.ZipFile) == 0 || env.Targets[0].Lambda.TargetGroupArn == "" {
		t.Errorf("target: %+v, want a function zipped from src behind a target group", env.Targets[0])
	}
}
