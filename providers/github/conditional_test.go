package github

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/internal/githubemu"
)

func TestConditionalTransportRevalidatesPerCredential(t *testing.T) {
	f := newReviewFixture(t)
	f.emu.AddToken("ghp_other", "other-bot")
	other := emuClient(t, f.emu, f.cond, "ghp_other")
	for range 3 {
		openPR(t, f)
	}
	list := func(c *github.Client) []int {
		t.Helper()
		var got []int
		opts := &github.PullRequestListOptions{ListOptions: github.ListOptions{PerPage: 2}}
		for {
			prs, resp, err := c.PullRequests.List(t.Context(), "acme", "app", opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range prs {
				got = append(got, p.GetNumber())
			}
			if resp.NextPage == 0 {
				return got
			}
			opts.Page = resp.NextPage
		}
	}
	first := list(f.client)
	statuses := func() []int {
		var out []int
		for _, r := range f.emu.Requests() {
			out = append(out, r.Status)
		}
		f.emu.ResetRequests()
		return out
	}
	statuses()

	if again := list(f.client); !slices.Equal(again, first) {
		t.Fatalf("revalidated pages = %v, want %v (Link headers kept from the cache)", again, first)
	}
	if got := statuses(); !slices.Equal(got, []int{304, 304}) {
		t.Fatalf("statuses of the second listing = %v, want two 304s", got)
	}
	if theirs := list(other); !slices.Equal(theirs, first) {
		t.Fatalf("other token's pages = %v, want %v", theirs, first)
	}
	if got := statuses(); !slices.Equal(got, []int{200, 200}) {
		t.Fatalf("statuses for another token = %v, want 200s: answers are not shared between credentials", got)
	}
}

func TestConditionalTransportIsBoundedAndNeverServesUnasked(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		tag := `"` + r.URL.Path + `"`
		w.Header().Set("ETag", tag)
		if r.Header.Get("If-None-Match") == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "body of "+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	tr := NewConditionalTransport(nil, 2)
	get := func(path string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get(CacheHeader)
	}
	for i := range 3 {
		get("/" + strconv.Itoa(i))
	}
	if n := tr.Len(); n != 2 {
		t.Fatalf("cache holds %d answers, want the bound 2", n)
	}
	before := served.Load()
	code, body, cache := get("/2")
	if code != 200 || body != "body of /2" || cache != "revalidated" || served.Load() != before+1 {
		t.Fatalf("cached /2 = %d %q %q after %d server hits, want a revalidated 200 after one",
			code, body, cache, served.Load()-before)
	}
	if _, _, cache := get("/0"); cache != "" {
		t.Fatal("/0 was served from the cache although the bound evicted it")
	}
}

func openPR(t *testing.T, f *reviewFixture) int {
	t.Helper()
	head := f.sha()
	n, err := f.emu.CreatePullRequest(t.Context(), repoFull, githubemu.NewPullRequest{
		Title: "change " + head[:2], Author: "dev", Head: "feature-" + head[:2], HeadSHA: head,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
