package github

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// MaxCommentBody is the longest comment body GitHub accepts, in characters
// (it refuses longer ones with a 422).
const MaxCommentBody = 65536

// truncatedNote ends a comment body cut to MaxCommentBody.
const truncatedNote = "\n\n… (cut to fit GitHub's limit of 65,536 characters per comment)\n"

// maxRemembered bounds the comments a Comments remembers; past it the
// memory is cleared, which at worst costs one listing per comment.
const maxRemembered = 10_000

// Comments keeps one comment per pull request and marker up to date, such
// as the plan preview: posted once, then edited in place. Safe for
// concurrent use.
type Comments struct {
	client *github.Client

	mu   sync.Mutex
	seen map[commentKey]postedComment
}

// commentKey identifies a marked comment.
type commentKey struct {
	owner, repo string
	number      int
	marker      string
}

// postedComment is what Comments remembers of a comment it found or wrote.
type postedComment struct {
	id   int64
	body [sha256.Size]byte
}

// NewComments returns a Comments writing through client.
func NewComments(client *github.Client) *Comments {
	return &Comments{client: client, seen: map[commentKey]postedComment{}}
}

// Upsert makes the comment of pull request (or issue) number carrying the
// hidden marker, e.g. "<!-- jibe:plan -->", read body; body is prefixed
// with the marker and a newline when it lacks it, and cut to
// MaxCommentBody characters when longer (see fitComment). The first comment
// containing the marker is edited when its text differs; one is created
// when none does, and created is true. A comment this Comments wrote or
// read is remembered: an identical body then makes no request at all, and
// a changed one is edited without listing comments again (listing after
// all when the edit finds it deleted). It returns the comment's ID.
func (c *Comments) Upsert(ctx context.Context, owner, repo string, number int, marker, body string) (id int64, created bool, err error) {
	if !strings.Contains(body, marker) {
		body = marker + "\n" + body
	}
	body = fitComment(body)
	key := commentKey{owner, repo, number, marker}
	sum := sha256.Sum256([]byte(body))
	if known, ok := c.recall(key); ok {
		if known.body == sum {
			return known.id, false, nil
		}
		err := c.edit(ctx, key, known.id, body)
		if !isStatus(err, http.StatusNotFound) {
			return known.id, false, err
		}
		c.forget(key)
	}
	return c.upsertListing(ctx, key, body)
}

// fitComment cuts body to MaxCommentBody characters, closing a code block
// left open and ending with truncatedNote, so that GitHub accepts it.
func fitComment(body string) string {
	if utf8.RuneCountInString(body) <= MaxCommentBody {
		return body
	}
	const fence = "\n```"
	runes := []rune(body)[:MaxCommentBody-utf8.RuneCountInString(fence+truncatedNote)]
	kept := string(runes)
	if strings.Count(kept, "```")%2 == 1 {
		kept += fence
	}
	return kept + truncatedNote
}

// upsertListing finds the marked comment by listing the comments, then
// edits or creates it.
func (c *Comments) upsertListing(ctx context.Context, key commentKey, body string) (int64, bool, error) {
	found, err := c.find(ctx, key)
	switch {
	case err != nil:
		return 0, false, err
	case found == nil:
		id, err := c.create(ctx, key, body)
		return id, err == nil, err
	case found.GetBody() == body:
		c.remember(key, found.GetID(), body)
		return found.GetID(), false, nil
	}
	return found.GetID(), false, c.edit(ctx, key, found.GetID(), body)
}

// find returns the first comment containing the marker, or nil.
func (c *Comments) find(ctx context.Context, key commentKey) (*github.IssueComment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: pageSize}}
	for {
		list, resp, err := c.client.Issues.ListComments(ctx, key.owner, key.repo, key.number, opts)
		if err != nil {
			return nil, classify(err, key.owner+"/"+key.repo, "listing the comments of #"+strconv.Itoa(key.number), permsToComment)
		}
		for _, cm := range list {
			if strings.Contains(cm.GetBody(), key.marker) {
				return cm, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

func (c *Comments) create(ctx context.Context, key commentKey, body string) (int64, error) {
	cm, _, err := c.client.Issues.CreateComment(ctx, key.owner, key.repo, key.number, &github.IssueComment{Body: &body})
	if err != nil {
		return 0, classify(err, key.owner+"/"+key.repo, "commenting on #"+strconv.Itoa(key.number), permsToComment)
	}
	c.remember(key, cm.GetID(), body)
	return cm.GetID(), nil
}

// edit replaces the comment's body. A 404 is returned unwrapped so that
// Upsert can fall back to listing.
func (c *Comments) edit(ctx context.Context, key commentKey, id int64, body string) error {
	_, _, err := c.client.Issues.EditComment(ctx, key.owner, key.repo, id, &github.IssueComment{Body: &body})
	switch {
	case isStatus(err, http.StatusNotFound):
		return err
	case err != nil:
		return classify(err, key.owner+"/"+key.repo, "editing a comment of #"+strconv.Itoa(key.number), permsToComment)
	}
	c.remember(key, id, body)
	return nil
}

func (c *Comments) recall(key commentKey) (postedComment, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.seen[key]
	return p, ok
}

func (c *Comments) remember(key commentKey, id int64, body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) >= maxRemembered {
		clear(c.seen)
	}
	c.seen[key] = postedComment{id: id, body: sha256.Sum256([]byte(body))}
}

func (c *Comments) forget(key commentKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, key)
}
