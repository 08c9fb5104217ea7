package gitserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// History describes a synthetic history made by GenerateHistory.
type History struct {
	// Branch receives the commits; DefaultBranch when empty.
	Branch string
	// Commits is the number of commits to create; at least 1.
	Commits int
	// Files is the number of files the first commit adds; later commits
	// each rewrite two of them. At least 1.
	Files int
	// FileSize is the size of each file in bytes; 64 when zero.
	FileSize int
}

// GenerateHistory appends h.Commits commits to h.Branch in a single
// git fast-import run and returns the new tip. 1,000 commits over 2,000
// files take well under a second. Files live at "files/dNN/fNNNN.txt".
// Commit times increase by one minute per commit, ending now.
func (r *Repo) GenerateHistory(h History) string {
	r.srv.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	h = h.withDefaults()
	tip := r.Head(h.Branch)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeHistory(pw, h, tip)) }()
	if _, err := runGit(context.Background(), r.dir, pr, "fast-import", "--quiet"); err != nil {
		r.srv.t.Fatalf("gitserver: generate history: %v", err)
	}
	return r.mustRevParse("refs/heads/" + h.Branch)
}

func (h History) withDefaults() History {
	if h.Branch == "" {
		h.Branch = DefaultBranch
	}
	h.Commits = max(h.Commits, 1)
	h.Files = max(h.Files, 1)
	if h.FileSize <= 0 {
		h.FileSize = 64
	}
	return h
}

// writeHistory streams the fast-import commands for h, starting from tip
// (empty for a new branch).
func writeHistory(w io.Writer, h History, tip string) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	start := time.Now().Add(-time.Duration(h.Commits) * time.Minute)
	for i := range h.Commits {
		c := Commit{
			Branch:  h.Branch,
			Message: fmt.Sprintf("commit %d", i),
			Files:   historyFiles(h, i),
			Author:  "Jibe Bench <bench@jibe.dev>",
			When:    start.Add(time.Duration(i) * time.Minute),
		}
		from := ""
		if i == 0 {
			from = tip
		}
		writeCommit(bw, c, from)
	}
	return bw.Flush()
}

// historyFiles returns the files commit i writes: all of them for the
// first commit, two rotating ones afterwards.
func historyFiles(h History, i int) map[string]string {
	files := map[string]string{}
	if i == 0 {
		for f := range h.Files {
			files[historyPath(f)] = historyContent(h, f, i)
		}
		return files
	}
	for _, f := range []int{(2 * i) % h.Files, (2*i + 1) % h.Files} {
		files[historyPath(f)] = historyContent(h, f, i)
	}
	return files
}

func historyPath(f int) string {
	return fmt.Sprintf("files/d%02d/f%04d.txt", f%100, f)
}

func historyContent(h History, f, i int) string {
	line := fmt.Sprintf("file %d revision %d\n", f, i)
	return strings.Repeat(line, h.FileSize/len(line)+1)[:h.FileSize]
}
