package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/jibe-dev/jibe/internal/demo"
)

// lineLogger writes complete lines to the test log as they come, so that
// a failed or -v run shows the story.
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line)
			return len(p), nil
		}
		l.t.Log(strings.TrimRight(line, "\n"))
	}
}

// The whole scripted story of `jibe demo --script` passes: the real agent,
// built as `jibe agent` builds it, deploys, previews, waits for approval,
// promotes a healthy canary and rolls back a failing one.
func TestDemoScript(t *testing.T) {
	t.Parallel() // it runs in real time, beside the other real-time test of this package
	err := demo.Run(t.Context(), demo.Options{Out: &lineLogger{t: t}, Script: true, StateDir: t.TempDir(), Agent: demoAgent})
	if err != nil {
		t.Fatal(err)
	}
}
