// Package demo plays Jibe's whole promotion story on loopback, in one
// process: the AWS emulator in real time, the GitHub emulator, a Git
// server holding acme/shop, the application's health endpoint and a
// Slack-compatible receiver, and the real agent built from a generated
// configuration. The people of acme (dana, alice, sam) commit, open pull
// requests, review and merge; the demo prints every commit status, plan
// preview and notification the agent produces, and checks each step's
// outcome against a deadline.
package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/reconcile"
)

// AgentFunc runs the agent with the configuration file at path until ctx
// is done, logging to log, as `jibe agent --config path` does.
type AgentFunc func(ctx context.Context, path string, log io.Writer) error

// Options configure Run.
type Options struct {
	// Out receives the story.
	Out io.Writer
	// Script runs unattended: Run returns once the story is over.
	// Otherwise it keeps everything running until ctx is done, so that
	// people can clone, edit and push the demo repository.
	Script bool
	// StateDir holds the repositories, the agent's configuration, state
	// and log. A temporary directory, removed at the end, when empty.
	StateDir string
	// Keep keeps a temporary StateDir.
	Keep bool
	// Agent runs the agent.
	Agent AgentFunc
}

// trafficPerSecond is how many requests each load balancer receives per
// second, so that CloudWatch has ALB metrics to analyse.
const trafficPerSecond = 50

// agentGrace bounds how long a stopping agent may take.
const agentGrace = 40 * time.Second

// Run plays the story. It returns nil when every step saw its outcomes
// in time or ctx ended, and a *StepError naming what was expected and
// seen otherwise.
func Run(ctx context.Context, opts Options) error {
	if err := checkTools(); err != nil {
		return err
	}
	dir, cleanup, err := stateDir(opts)
	if err != nil {
		return err
	}
	defer cleanup()
	out := &printer{w: opts.Out, start: time.Now()}
	out.printf("Starting the AWS emulator, GitHub, a Git server and the agent on loopback (state in %s)", dir)
	env, err := StartEnv(ctx, dir)
	if err != nil {
		return err
	}
	defer env.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go env.sendTraffic(ctx, time.Second)
	stop, err := env.startAgent(ctx, opts.Agent, out)
	if err != nil {
		return err
	}
	defer stop()
	env.printEnv(out)
	if err := play(ctx, env, out); err != nil {
		if ctx.Err() != nil {
			out.printf("\nInterrupted.")
			return nil
		}
		env.printAgentLog(out, 40)
		return err
	}
	out.printf("\nThe story is over in %s: every status, comment and notification above came from the agent.", since(out.start))
	if opts.Script {
		return nil
	}
	env.printNextSteps(out)
	env.followMain(ctx, out)
	return nil
}

// followMain prints the statuses of every new commit on main, and what
// else the agent makes visible, until ctx is done.
func (e *Env) followMain(ctx context.Context, out *printer) {
	obs := newObserver(e, out)
	obs.slack = len(e.Slack.Messages())
	last := e.Repo.Head(gitserver.DefaultBranch)
	every(ctx, time.Second, func() {
		if head := e.Repo.Head(gitserver.DefaultBranch); head != "" && head != last {
			last = head
			out.printf("\n  main is now %s", reconcile.ShortRevision(head))
			obs.track(head)
		}
		obs.once()
	})
}

// play runs the story's steps while an observer prints what the agent
// makes visible.
func play(ctx context.Context, env *Env, out *printer) error {
	obs := newObserver(env, out)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go obs.run(ctx, pollInterval)
	s, err := newStory(env, obs, out)
	if err != nil {
		return err
	}
	err = (&runner{out: out, poll: pollInterval, sync: obs.once}).run(ctx, append(s.quoteSteps(), s.steps()...))
	obs.once()
	return err
}

func stateDir(opts Options) (string, func(), error) {
	if opts.StateDir != "" {
		dir, err := filepath.Abs(opts.StateDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o700)
		}
		return dir, func() {}, err
	}
	dir, err := os.MkdirTemp("", "jibe-demo-")
	if err != nil {
		return "", nil, err
	}
	if opts.Keep {
		return dir, func() {}, nil
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// sendTraffic sends requests through every listener each interval (and
// to quote's path) until ctx is done.
func (e *Env) sendTraffic(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		for _, a := range e.Accounts {
			_, _ = e.AWS.SendTraffic(a.Listener, trafficPerSecond)
		}
		e.sendQuoteTraffic()
	})
}

// startAgent writes the agent's configuration, starts the agent, waits
// until it serves, and points acme/shop's webhook at it. stop stops the
// agent and waits for it.
func (e *Env) startAgent(ctx context.Context, run AgentFunc, out *printer) (stop func(), err error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	path, err := e.writeAgentConfig(addr)
	if err != nil {
		return nil, fmt.Errorf("writing the agent configuration: %w", err)
	}
	logFile, err := os.Create(e.agentLog())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(ctx, path, logFile) }()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(agentGrace):
			out.printf("the agent did not stop within %s", agentGrace)
		}
		_ = logFile.Close()
	}
	if err := waitServing(ctx, "http://"+addr+"/healthz", done); err != nil {
		stop()
		e.printAgentLog(out, 20)
		return nil, err
	}
	e.GitHub.AddWebhook(repoName, "http://"+addr+"/hooks/github", hookSecret)
	e.agentAddr = addr
	return stop, nil
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr() (string, error) {
	ln, err := listen()
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitServing polls url until it answers 200, the agent exits, or 30
// seconds pass.
func waitServing(ctx context.Context, url string, exited <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("the agent did not serve /healthz within 30s")
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the agent stopped at start: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

func (e *Env) agentLog() string { return filepath.Join(e.Dir, "agent.log") }

// DashboardURL returns the address of the agent's dashboard, where the
// story can be watched; empty before the agent starts.
func (e *Env) DashboardURL() string {
	if e.agentAddr == "" {
		return ""
	}
	return "http://" + e.agentAddr + "/"
}

// printEnv says where everything runs.
func (e *Env) printEnv(out *printer) {
	out.printf("  AWS emulator    %s (staging %s, production %s)", e.AWSURL, stagingAccount, productionAccount)
	out.printf("  GitHub          %s (repository %s)", e.GitHub.URL(), repoName)
	out.printf("  Git             %s", e.Repo.URL())
	out.printf("  agent           http://%s (log: %s)", e.agentAddr, e.agentLog())
	out.printf("  dashboard       %s (the story, live)", e.DashboardURL())
}

// printAgentLog prints the last n lines of the agent's log.
func (e *Env) printAgentLog(out *printer, n int) {
	f, err := os.Open(e.agentLog())
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	lines = lines[max(0, len(lines)-n):]
	out.printf("\nThe last %d lines of the agent's log (%s):\n%s", len(lines), e.agentLog(), indent(strings.Join(lines, "\n"), "  "))
}

// printNextSteps tells people how to play on, and how to break things
// through the AWS emulator's control endpoints.
func (e *Env) printNextSteps(out *printer) {
	out.printf(`
Everything keeps running until Ctrl-C. Play on: the agent polls acme/shop every 5s
and rolls every push to main out; production changes wait for an approved pull request.

  git clone %s demo-shop && cd demo-shop
  sed -i 's/checkout:1.2.0/checkout:1.1.0/' checkout/jibe.yaml
  git -c user.name=you -c user.email=you@example.com commit -am "Revert checkout to 1.1.0" && git push

  open %s                     # the dashboard: what runs where, live
  curl -s http://%s/api/v1/applications      # what the agent runs
  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=x AWS_REGION=%s AWS_DEFAULT_REGION=%s \
    aws --endpoint-url %s ecs describe-services --cluster staging --services checkout

Break it yourself (the AWS emulator's control endpoints, loopback only), then push a release:
  curl -X POST %s/_jibe/image/behavior -d '{"image": "%s", "broken": true}'   # its tasks fail health checks: rollback
  curl -X POST %s/_jibe/image/behavior -d '{"image": "%s", "errorRate": 0.3}' # 30%% of requests fail: alarms fire
  curl -X POST %s/_jibe/faults -d '{"service": "ecs", "operation": "UpdateService", "kind": "Throttle", "count": 3}'
  curl -X DELETE %s/_jibe/faults                                                 # clear every fault
  curl -X POST %s/_jibe/time/advance -d '{"duration": "5m"}'                     # move emulated time`,
		e.RepoURL(true), e.DashboardURL(), e.agentAddr, e.Accounts[0].AccessKey, region, region, e.AWSURL,
		e.AWSURL, image("1.1.0"), e.AWSURL, image("1.1.0"), e.AWSURL, e.AWSURL, e.AWSURL)
}
