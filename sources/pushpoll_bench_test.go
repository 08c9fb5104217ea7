package sources

import (
	"fmt"
	"testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// BenchmarkPollPush100Apps polls a repository of 100 application folders
// after a push that changes one of them: one push and poll per op, timed
// from the commit being on the server to the Updates. "interval" is a
// scheduled poll (ls-remote, then the fetch); "triggered" is the poll a
// push webhook triggers, which fetches at once. It reports the requests
// to the Git server per poll.
//
//	go test ./sources -run '^$' -bench PollPush100Apps -benchtime 20x
func BenchmarkPollPush100Apps(b *testing.B) {
	for _, triggered := range []bool{false, true} {
		name := map[bool]string{false: "interval", true: "triggered"}[triggered]
		b.Run(name, func(b *testing.B) { benchmarkPollPush(b, triggered) })
	}
}

func benchmarkPollPush(b *testing.B, triggered bool) {
	srv := gitserver.New(b)
	srv.CreateRepo("shop")
	repo := srv.Repo("shop")
	files := map[string]string{}
	for i := range 100 {
		app := fmt.Sprintf("apps/app%03d", i)
		files[app+"/jibe.yaml"] = webSpec
		files[app+"/k8s/app.yaml"] = "replicas: 2\nimage: web:1\n"
	}
	repo.Commit(gitserver.Commit{Files: files})
	g := NewGit(GitOptions{StateDir: b.TempDir(), Logger: testLogger(b)})
	if err := g.Add(config.Source{Name: "shop", Git: &config.GitSource{URL: repo.URL()}}); err != nil {
		b.Fatal(err)
	}
	if _, err := g.PollOnce(b.Context()); err != nil {
		b.Fatal(err)
	}
	p := g.snapshot()[0]
	srv.ResetRequests()
	n := 0
	for b.Loop() {
		b.StopTimer()
		n++
		repo.Commit(gitserver.Commit{Files: map[string]string{"apps/app000/k8s/app.yaml": fmt.Sprintf("replicas: 2\nimage: web:%d\n", n+1)}})
		b.StartTimer()
		ups, err := p.pollAndRecord(b.Context(), triggered)
		if err != nil || len(ups) != 1 || ups[0].Apps[0].Change != ChangeModified {
			b.Fatalf("poll: %d updates, %v", len(ups), err)
		}
	}
	b.ReportMetric(float64(srv.CountRequests(nil))/float64(n), "requests/poll")
}
