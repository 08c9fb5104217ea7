// Package agentproc runs `jibe agent` as separate operating system
// processes in tests: built once with `go build` (so that a test running
// under -race does not slow its children down), each process logging to
// its own file, signalled (SIGKILL, SIGSTOP, SIGCONT, SIGTERM) like an
// operator or a kubelet would, and measured (CPU time and peak memory from
// the kernel's accounting of the child).
//
//	bin := agentproc.Build(t, dir)
//	p := agentproc.Start(t, agentproc.Options{Name: "a", Binary: bin, Args: []string{"agent", "--config", cfg}})
//	p.Signal(syscall.SIGKILL)
//	<-p.Done()
//
// When the test fails, the tail of every process's log is printed.
package agentproc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Package is the import path of the jibe command Build compiles.
const Package = "github.com/jibe-dev/jibe/cmd/jibe"

// Build compiles the jibe command into dir and returns the binary's path.
// It builds without -race whatever the test runs with: the children are
// the system under test, not the test.
func Build(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "jibe")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, Package)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("go build %s: %v\n%s", Package, err, out)
	}
	return bin
}

// Options describe one process.
type Options struct {
	// Name labels the process in failures and log dumps.
	Name string
	// Binary is the executable, e.g. Build's result.
	Binary string
	// Args are its arguments.
	Args []string
	// Env is added to the test's environment.
	Env []string
	// LogPath receives the process's stdout and stderr (appended).
	LogPath string
}

// Process is one running child.
type Process struct {
	opts Options
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error // cmd.Wait's result, set before done closes
}

// Start starts the process and arranges for it to be killed when the test
// ends; if the test failed by then, the log's tail is printed.
func Start(tb testing.TB, opts Options) *Process {
	tb.Helper()
	log, err := os.OpenFile(opts.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(opts.Binary, opts.Args...)
	cmd.Env = append(os.Environ(), opts.Env...)
	cmd.Stdout, cmd.Stderr = log, log
	// SIGKILLed with the test binary, so that a crashed test leaves none
	// behind; forked from a thread that never ends (see spawner).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := startCmd(cmd); err != nil {
		log.Close()
		tb.Fatalf("start %s: %v", opts.Name, err)
	}
	p := &Process{opts: opts, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() { p.cleanup(tb) })
	return p
}

// spawner runs functions on one OS thread that lives as long as the test
// binary. Linux sends Pdeathsig when the *thread* that forked the child
// ends, and a goroutine that locks its thread and exits takes the thread
// with it: forking from a locked goroutine that never returns keeps a
// child from being killed in the middle of a test.
var spawner = sync.OnceValue(func() chan<- func() {
	ch := make(chan func())
	go func() {
		runtime.LockOSThread() // never unlocked: the thread must not be reused or ended
		for f := range ch {
			f()
		}
	}()
	return ch
})

// startCmd starts cmd from the spawner thread.
func startCmd(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	spawner() <- func() { errc <- cmd.Start() }
	return <-errc
}

func (p *Process) cleanup(tb testing.TB) {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(syscall.SIGCONT) // a stopped process dies of SIGKILL too, but say it
		p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
	if tb.Failed() {
		tb.Logf("--- %s (pid %d) log, last 150 lines (%s):\n%s", p.opts.Name, p.Pid(), p.opts.LogPath, p.Tail(150))
	}
}

// Name is the process's label.
func (p *Process) Name() string { return p.opts.Name }

// Pid is the process's ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// ExitCode is the exit status once Done is closed: -1 when a signal
// killed it.
func (p *Process) ExitCode() int { return p.cmd.ProcessState.ExitCode() }

// Err is the process's wait error once Done is closed (nil on exit 0).
func (p *Process) Err() error { return p.err }

// Stop sends SIGTERM and waits up to timeout for an orderly exit, then
// kills the process. It reports whether the process exited on its own.
func (p *Process) Stop(timeout time.Duration) bool {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		return false
	}
}

// Stacks makes a hung Go process print every goroutine's stack and exit
// (SIGQUIT), and returns what it printed, for a failure message.
func (p *Process) Stacks(timeout time.Duration) string {
	before := len(p.Log())
	p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.done:
	case <-time.After(timeout):
		return "(no goroutine dump within " + timeout.String() + ")"
	}
	return p.Log()[before:]
}

// Usage is what the kernel accounted for an exited process.
type Usage struct {
	// CPU is user plus system time.
	CPU time.Duration
	// MaxRSS is the peak resident set size, in bytes.
	MaxRSS int64
}

// Usage returns the process's CPU time and peak RSS; call it after Done.
func (p *Process) Usage() Usage {
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return Usage{}
	}
	return Usage{
		CPU:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		MaxRSS: ru.Maxrss * 1024, // kilobytes on Linux
	}
}

// Log returns everything the process has logged so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.opts.LogPath)
	return string(b)
}

// Tail returns the last n lines of the log.
func (p *Process) Tail(n int) string {
	lines := strings.SplitAfter(p.Log(), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// FreeAddr returns a loopback address with a port free at the time of the
// call, for a child's listen address.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Get fetches url with a short timeout and returns the status and body.
func Get(url string) (int, []byte, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// Metric returns the value of the first sample of name (without labels,
// or with them when name includes them: `m{a="b"}`) in the Prometheus
// text exposition at addr's /metrics.
func Metric(addr, name string) (float64, bool) {
	code, body, err := Get("http://" + addr + "/metrics")
	if err != nil || code != http.StatusOK {
		return 0, false
	}
	for line := range bytes.Lines(body) {
		rest, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte(name+" "))
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(rest)), 64)
		return v, err == nil
	}
	return 0, false
}

// Poll calls cond every interval until it returns true or timeout passes;
// then it fails the test with what and cond's last detail. It never
// sleeps past the deadline.
func Poll(tb testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	if ok, detail := poll(timeout, cond); !ok {
		tb.Fatalf("%s: not within %s; %s", what, timeout, detail)
	}
}

// poll is Poll without failing.
func poll(timeout time.Duration, cond func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, detail := cond()
		if ok {
			return true, detail
		}
		if time.Now().After(deadline) {
			return false, detail
		}
		<-tick.C // polling a condition with a deadline
	}
}

// Within is Poll that reports instead of failing: whether cond held
// within timeout, and its last detail.
func Within(timeout time.Duration, cond func() (bool, string)) (bool, string) {
	return poll(timeout, cond)
}

// Describe names a process for messages: "name (pid N)".
func (p *Process) Describe() string { return fmt.Sprintf("%s (pid %d)", p.opts.Name, p.Pid()) }
