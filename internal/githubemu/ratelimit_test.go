package githubemu_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/internal/githubemu"
)

func TestRateLimitHeadersOnEveryResponse(t *testing.T) {
	e := setup(t, githubemu.Options{})
	for _, resp := range []*http.Response{
		rawGet(t, e, "/repos/acme/app", "token "+botToken),
		rawGet(t, e, "/repos/acme/missing", "token "+botToken),
		rawGet(t, e, "/repos/acme/app", "token nope"),
	} {
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used", "X-RateLimit-Resource"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("%s %s: missing %s", resp.Request.URL.Path, resp.Status, h)
			}
		}
	}
}

func TestPrimaryRateLimit(t *testing.T) {
	clock := newFakeClock()
	e := setup(t, githubemu.Options{RateLimit: 3, Now: clock.Now})
	c := client(t, e, botToken)
	ctx := t.Context()

	for want := 2; want >= 0; want-- {
		_, resp, err := c.Repositories.Get(ctx, owner, repoName)
		if err != nil {
			t.Fatalf("request within limit: %v", err)
		}
		if resp.Rate.Limit != 3 || resp.Rate.Remaining != want {
			t.Fatalf("rate = %+v, want limit 3 remaining %d", resp.Rate, want)
		}
	}
	// A fresh client has no cached limit, so the request reaches the emulator.
	_, _, err := client(t, e, botToken).Repositories.Get(ctx, owner, repoName)
	var rle *github.RateLimitError
	if !errors.As(err, &rle) {
		t.Fatalf("err = %v, want *github.RateLimitError", err)
	}
	if rle.Rate.Remaining != 0 || !rle.Rate.Reset.Time.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("rate = %+v, want remaining 0 resetting in an hour", rle.Rate)
	}
	if rle.Response.StatusCode != 403 || !contains(rle.Message, "API rate limit exceeded for user ID") {
		t.Fatalf("status %d message %q, want 403 and GitHub's message", rle.Response.StatusCode, rle.Message)
	}

	clock.Step(time.Hour)
	if _, resp, err := client(t, e, botToken).Repositories.Get(ctx, owner, repoName); err != nil || resp.Rate.Remaining != 2 {
		t.Fatalf("after reset: %v, remaining %d; want success with 2 left", err, resp.Rate.Remaining)
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	e := setup(t, githubemu.Options{})
	ctx := t.Context()
	e.TriggerSecondaryLimit(githubemu.SecondaryLimit{RetryAfter: 30 * time.Second})

	_, _, err := client(t, e, botToken).Repositories.Get(ctx, owner, repoName)
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) {
		t.Fatalf("err = %v, want *github.AbuseRateLimitError", err)
	}
	if abuse.GetRetryAfter() != 30*time.Second || !contains(abuse.Message, "secondary rate limit") {
		t.Fatalf("retry after %v message %q, want 30s and the secondary-limit message", abuse.GetRetryAfter(), abuse.Message)
	}
	if _, _, err := client(t, e, botToken).Repositories.Get(ctx, owner, repoName); err != nil {
		t.Fatalf("request after the injected limit: %v", err)
	}
}

func TestSecondaryRateLimitAs429(t *testing.T) {
	e := setup(t, githubemu.Options{})
	e.TriggerSecondaryLimit(githubemu.SecondaryLimit{RetryAfter: time.Minute, TooManyRequests: true})
	resp := rawGet(t, e, "/repos/acme/app", "Bearer "+botToken)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("status %d Retry-After %q, want 429 and 60", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestContentCreationLimit(t *testing.T) {
	e := setup(t, githubemu.Options{})
	e.SetContentCreationLimit(2)
	c := client(t, e, botToken)
	mustCreateStatus(t, c, shaA, "pending", "a")
	mustCreateStatus(t, c, shaA, "pending", "b")
	_, _, err := createStatus(t.Context(), c, shaA, "pending", "c", "")
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.GetRetryAfter() <= 0 {
		t.Fatalf("third write in a minute: err = %v, want *github.AbuseRateLimitError with Retry-After", err)
	}
	if _, _, err := client(t, e, botToken).Repositories.Get(t.Context(), owner, repoName); err != nil {
		t.Fatalf("reads are not content creation: %v", err)
	}
}

func TestConditionalRequestIsNotCounted(t *testing.T) {
	e := setup(t, githubemu.Options{})
	c := client(t, e, botToken)
	ctx := t.Context()
	mustCreateStatus(t, c, shaA, "pending", "jibe")

	get := func(etag string) *github.Response {
		t.Helper()
		req, err := c.NewRequest("GET", "repos/acme/app/commits/"+shaA+"/status", nil)
		if err != nil {
			t.Fatal(err)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, _ := c.Do(ctx, req, nil)
		return resp
	}
	first := get("")
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || etag == "" {
		t.Fatalf("first GET: %d etag %q, want 200 with an ETag", first.StatusCode, etag)
	}
	second := get(etag)
	if second.StatusCode != 304 || second.Rate.Remaining != first.Rate.Remaining {
		t.Fatalf("conditional GET: %d remaining %d, want 304 with remaining still %d",
			second.StatusCode, second.Rate.Remaining, first.Rate.Remaining)
	}
	mustCreateStatus(t, c, shaA, "success", "jibe")
	third := get(etag)
	if third.StatusCode != 200 || third.Rate.Remaining != first.Rate.Remaining-2 {
		t.Fatalf("after a change: %d remaining %d, want 200 and remaining %d (POST and this GET counted)",
			third.StatusCode, third.Rate.Remaining, first.Rate.Remaining-2)
	}
	if used, _ := strconv.Atoi(third.Header.Get("X-RateLimit-Used")); used != 4 {
		t.Fatalf("X-RateLimit-Used = %d, want 4 (2 posts, 2 full GETs)", used)
	}
}
