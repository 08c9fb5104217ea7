package github

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// DefaultConditionalEntries bounds a ConditionalTransport's cache when no
// bound is given.
const DefaultConditionalEntries = 1000

// maxCachedBody is the largest response body a ConditionalTransport keeps;
// larger answers pass through uncached.
const maxCachedBody = 4 << 20

// CacheHeader is set to "revalidated" on responses a ConditionalTransport
// served from its cache after a 304.
const CacheHeader = "X-Jibe-Cache"

// ConditionalTransport makes GET requests conditional: it remembers the
// ETag and body of each successful answer, per URL and per credential, and
// sends If-None-Match the next time. GitHub answers an unchanged resource
// with 304 Not Modified, which does not count against the rate limit; the
// transport then returns the remembered body to the caller as a 200.
//
// It never serves from its cache without asking the server. The cache is
// an LRU bounded by entry count. Credentials are only kept as hashes.
// Requests that already carry If-None-Match or If-Modified-Since, and
// methods other than GET, pass through untouched. Safe for concurrent use.
type ConditionalTransport struct {
	next http.RoundTripper
	max  int

	mu      sync.Mutex
	order   *list.List // of *cacheEntry, most recently used first
	entries map[string]*list.Element
}

type cacheEntry struct {
	key    string
	etag   string
	header http.Header
	body   []byte
}

// NewConditionalTransport returns a ConditionalTransport sending requests
// through next (http.DefaultTransport when nil) and keeping at most
// maxEntries answers (DefaultConditionalEntries when not positive).
//
// Put it below the transport that adds credentials, so it sees the
// Authorization header:
//
//	c := gh.NewClient(&http.Client{Transport: NewConditionalTransport(nil, 0)}).WithAuthToken(token)
//	c := gh.NewClient(&http.Client{Transport: appTokens.Transport(NewConditionalTransport(nil, 0))})
func NewConditionalTransport(next http.RoundTripper, maxEntries int) *ConditionalTransport {
	if next == nil {
		next = http.DefaultTransport
	}
	if maxEntries <= 0 {
		maxEntries = DefaultConditionalEntries
	}
	return &ConditionalTransport{next: next, max: maxEntries, order: list.New(), entries: map[string]*list.Element{}}
}

// Len returns the number of cached answers.
func (t *ConditionalTransport) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.order.Len()
}

// RoundTrip sends req, conditionally when an answer to the same request
// with the same credentials is cached.
func (t *ConditionalTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.Header.Get("If-None-Match") != "" || req.Header.Get("If-Modified-Since") != "" {
		return t.next.RoundTrip(req)
	}
	key := cacheKey(req)
	cached := t.get(key)
	if cached != nil {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", cached.etag)
	}
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil:
		return nil, err
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		return revalidated(resp, cached), nil
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		return t.store(key, resp)
	}
	return resp, nil
}

// cacheKey identifies a request: its URL, its Accept header (GitHub varies
// the body on it) and a hash of its credentials, so that two tokens never
// share an answer and no token is kept in memory.
func cacheKey(req *http.Request) string {
	h := sha256.Sum256([]byte(req.Header.Get("Authorization")))
	return req.URL.String() + "\x00" + req.Header.Get("Accept") + "\x00" + string(h[:])
}

func (t *ConditionalTransport) get(key string) *cacheEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.entries[key]
	if !ok {
		return nil
	}
	t.order.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

// store reads resp's body, caches it with the ETag when it is small
// enough, and returns resp with a fresh reader over the body.
func (t *ConditionalTransport) store(key string, resp *http.Response) (*http.Response, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCachedBody+1))
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	if len(body) > maxCachedBody {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		return resp, nil
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	t.put(&cacheEntry{key: key, etag: resp.Header.Get("ETag"), header: resp.Header.Clone(), body: body})
	return resp, nil
}

func (t *ConditionalTransport) put(e *cacheEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.entries[e.key]; ok {
		el.Value = e
		t.order.MoveToFront(el)
		return
	}
	t.entries[e.key] = t.order.PushFront(e)
	for t.order.Len() > t.max {
		oldest := t.order.Back()
		t.order.Remove(oldest)
		delete(t.entries, oldest.Value.(*cacheEntry).key)
	}
}

// revalidated turns a 304 into a 200 carrying the cached body: the cached
// headers (Link, Content-Type) updated with the 304's (rate limits, ETag),
// as HTTP caches do.
func revalidated(resp *http.Response, e *cacheEntry) *http.Response {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	header := e.header.Clone()
	for k, v := range resp.Header {
		header[k] = v
	}
	header.Set(CacheHeader, "revalidated")
	header.Set("Content-Length", strconv.Itoa(len(e.body)))
	out := *resp
	out.Status, out.StatusCode = "200 OK", http.StatusOK
	out.Header = header
	out.Body = io.NopCloser(bytes.NewReader(e.body))
	out.ContentLength = int64(len(e.body))
	return &out
}
