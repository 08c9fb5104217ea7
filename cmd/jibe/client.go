package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Environment variables of the commands that talk to a running agent.
const (
	envServer = "JIBE_SERVER" // the agent's base URL, when --server is not given
	envToken  = "JIBE_TOKEN"  // a token of the agent's server.tokens
)

// defaultServer is the agent's address with the default server.listen.
const defaultServer = "http://127.0.0.1:8080"

// apiFlags are the flags of every command that talks to a running agent
// through its HTTP API (docs/api.md).
type apiFlags struct {
	server string
}

// register adds --server to cmd. The token is read from JIBE_TOKEN only,
// so that it never shows in a process list or a shell history.
func (f *apiFlags) register(cmd *cobra.Command) {
	def := os.Getenv(envServer)
	if def == "" {
		def = defaultServer
	}
	cmd.Flags().StringVar(&f.server, "server", def, "the agent's URL (default from "+envServer+"); the token is read from "+envToken)
}

// client returns a client of the agent's API.
func (f *apiFlags) client() (*apiClient, error) {
	u, err := url.Parse(strings.TrimRight(f.server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q: give the agent's URL, such as %s", f.server, defaultServer)
	}
	return &apiClient{base: u, token: os.Getenv(envToken), http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// apiClient calls the agent's HTTP API. Its errors say what to do next:
// start the agent, set JIBE_TOKEN, or what the agent answered.
type apiClient struct {
	base  *url.URL
	token string
	http  *http.Client
}

// APIError is an answer of the agent other than 2xx: its status and the
// message it gave.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	msg := e.Message
	switch e.Status {
	case http.StatusUnauthorized:
		if !strings.Contains(msg, envToken) {
			msg += " (set " + envToken + " to a token of the agent's server.tokens)"
		}
	case http.StatusForbidden:
		msg += " (set " + envToken + " to a token with scope write)"
	}
	return fmt.Sprintf("the agent answered %d: %s", e.Status, msg)
}

// get reads path (with its query) into out.
func (c *apiClient) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

// post sends in as JSON to path and reads the answer into out (either may
// be nil).
func (c *apiClient) post(ctx context.Context, path string, in, out any) error {
	return c.do(ctx, http.MethodPost, path, in, out)
}

func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return &APIError{Status: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the agent's answer to %s %s: %w (is %s a Jibe agent?)", method, path, err, c.base)
	}
	return nil
}

// stream opens path as a server-sent event stream; the caller closes the
// body.
func (c *apiClient) stream(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// A stream lasts: no client timeout, the context ends it.
	resp, err := (&http.Client{Transport: c.http.Transport}).Do(req)
	if err != nil {
		return nil, c.unreachable(err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &APIError{Status: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
	}
	return resp.Body, nil
}

func (c *apiClient) url(path string) string {
	return c.base.String() + path
}

// unreachable explains a request that got no answer.
func (c *apiClient) unreachable(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("no agent answers at %s: start one (jibe agent --config FILE), or give its address with --server or %s", c.base, envServer)
	}
	return fmt.Errorf("no answer from the agent at %s: %w (check --server or %s)", c.base, err, envServer)
}

// appRef names an application on the agent: its source and name.
type appRef struct{ Source, Name string }

// path is the application's path under /api/v1.
func (r appRef) path() string {
	return "/api/v1/applications/" + url.PathEscape(r.Source) + "/" + url.PathEscape(r.Name)
}

func (r appRef) String() string { return r.Source + "/" + r.Name }

// resolveApp finds the application arg names: "SOURCE/NAME", or a NAME
// that only one source has.
func (c *apiClient) resolveApp(ctx context.Context, arg string) (appRef, error) {
	if source, name, ok := strings.Cut(arg, "/"); ok {
		return appRef{Source: source, Name: name}, nil
	}
	var apps []struct {
		Name   string `json:"name"`
		Source string `json:"source"`
	}
	if err := c.get(ctx, "/api/v1/applications?q="+url.QueryEscape(arg), &apps); err != nil {
		return appRef{}, err
	}
	var found []appRef
	for _, a := range apps {
		if a.Name == arg {
			found = append(found, appRef{Source: a.Source, Name: a.Name})
		}
	}
	switch len(found) {
	case 0:
		return appRef{}, fmt.Errorf("no application %s on the agent at %s: jibe status lists them", arg, c.base)
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.String()
	}
	return appRef{}, fmt.Errorf("%d sources have an application %s: name one of %s", len(found), arg, strings.Join(names, ", "))
}
