package sources

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

var (
	benchRepos   = flag.Int("sources.repos", 200, "repositories polled by BenchmarkPollUnchanged")
	benchCommits = flag.Int("sources.commits", 1000, "commits per benchmark repository")
	benchFiles   = flag.Int("sources.files", 2000, "files per benchmark repository")
)

// benchFleet serves *benchRepos copies of one generated repository with
// an application folder, and returns their URLs.
func benchFleet(b *testing.B) (*gitserver.Server, []string) {
	srv := gitserver.New(b)
	srv.CreateRepo("r000")
	seed := srv.Repo("r000")
	seed.GenerateHistory(gitserver.History{Commits: *benchCommits, Files: *benchFiles})
	seed.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": webSpec, "apps/api/jibe.yaml": apiSpec}})
	urls := []string{seed.URL()}
	for i := 1; i < *benchRepos; i++ {
		name := fmt.Sprintf("r%03d", i)
		srv.CreateRepo(name)
		r := srv.Repo(name)
		if err := os.RemoveAll(r.Dir()); err != nil {
			b.Fatal(err)
		}
		// A local clone hard-links the seed's objects: 200 repositories in
		// a second instead of generating each history.
		if out, err := exec.Command("git", "clone", "-q", "--bare", "--local", seed.Dir(), r.Dir()).CombinedOutput(); err != nil {
			b.Fatalf("git clone: %v: %s", err, out)
		}
		urls = append(urls, r.URL())
	}
	return srv, urls
}

// cpuTime returns the user+system CPU time of the process (self) and of
// its finished children (the git server's CGI processes).
func cpuTime() (self, children time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return self, time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssMiB returns the process's resident set size in MiB.
func rssMiB() float64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkPollUnchanged200Repos polls repositories of ~1,000 commits and
// 2,000 files that have not changed since the last round: one round per
// op. It reports the requests, client and server CPU per round, and the
// process's RSS and Go heap once every clone exists.
func BenchmarkPollUnchanged200Repos(b *testing.B) {
	srv, urls := benchFleet(b)
	g := NewGit(GitOptions{StateDir: b.TempDir(), Logger: testLogger(b)})
	for i, url := range urls {
		src := config.Source{Name: fmt.Sprintf("s%03d", i), Git: &config.GitSource{URL: url}}
		if err := g.Add(src); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	ups, err := g.PollOnce(b.Context())
	if err != nil || len(ups) != len(urls) {
		b.Fatalf("first round: %d updates, err %v", len(ups), err)
	}
	b.Logf("first round (shallow clone of %d repositories): %v", len(urls), time.Since(start))
	ups = nil
	runtime.GC()

	srv.ResetRequests()
	self0, child0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if ups, err := g.PollOnce(b.Context()); err != nil || len(ups) != 0 {
			b.Fatalf("unchanged round: %d updates, err %v", len(ups), err)
		}
	}
	b.StopTimer()
	self1, child1 := cpuTime()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rounds := float64(b.N)
	b.ReportMetric(float64(srv.CountRequests(nil))/rounds, "requests/round")
	b.ReportMetric((self1-self0).Seconds()*1000/rounds, "cpu-ms/round")
	b.ReportMetric((child1-child0).Seconds()*1000/rounds, "server-cgi-cpu-ms/round")
	b.ReportMetric(rssMiB(), "rss-MiB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
}

// BenchmarkRevisionRead reads every file of an application (two files)
// from a revision of a 2,000-file repository, as spec.LoadFS would: the
// first read of a revision (loading the folder), later reads (from
// memory), and reads of folders too large to load (from the clone).
func BenchmarkRevisionRead(b *testing.B) {
	srv := gitserver.New(b)
	srv.CreateRepo("big")
	repo := srv.Repo("big")
	repo.GenerateHistory(gitserver.History{Commits: *benchCommits, Files: *benchFiles})
	repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": webSpec, "apps/web/k8s/deploy.yaml": "replicas: 1\n"}})
	g := NewGit(GitOptions{StateDir: b.TempDir(), Logger: testLogger(b)})
	if err := g.Add(config.Source{Name: "big", Git: &config.GitSource{URL: repo.URL()}, Applications: []string{"apps/*"}}); err != nil {
		b.Fatal(err)
	}
	ups, err := g.PollOnce(b.Context())
	if err != nil || len(ups) != 1 || len(ups[0].Apps) != 1 {
		b.Fatalf("poll: %+v, %v", ups, err)
	}
	files := ups[0].Apps[0].Revision.Files.(treeFS)
	cases := []struct {
		name  string
		files func() fs.FS
	}{
		{"first-read", func() fs.FS { return newTreeFS(files.store, files.root, files.mtime, files.maxFile) }},
		{"loaded", func() fs.FS { return files }},
		{"from-clone", func() fs.FS { return uncached(files) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if got, err := readAll(c.files()); err != nil || len(got) != 2 {
					b.Fatalf("read %d files: %v", len(got), err)
				}
			}
		})
	}
}
