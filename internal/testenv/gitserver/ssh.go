package gitserver

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHServer serves the repositories of a Server over SSH. It accepts any
// user name and authenticates clients by public key only. Only
// git-upload-pack and git-receive-pack may be executed.
type SSHServer struct {
	t        TB
	root     string
	ln       net.Listener
	hostKey  ssh.Signer
	mu       sync.Mutex
	keys     map[string]bool // authorized keys, by ssh.PublicKey.Marshal
	commands []string
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
}

// ClientKey is a client key pair authorized on an SSHServer.
type ClientKey struct {
	// Signer signs with the private key, for golang.org/x/crypto/ssh and
	// go-git's ssh.PublicKeys.
	Signer ssh.Signer
	// PEM is the private key in OpenSSH PEM form, for go-git's
	// ssh.NewPublicKeys or an identity file.
	PEM []byte
}

// startSSH starts an SSH server on a loopback port, stopped when the test ends.
func startSSH(t TB, root string) *SSHServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gitserver: ssh listen: %v", err)
	}
	s := &SSHServer{t: t, root: root, ln: ln, hostKey: newKey(t).Signer, keys: map[string]bool{}, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.close)
	return s
}

// newKey generates an ed25519 key pair.
func newKey(t TB) ClientKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("gitserver: generate key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("gitserver: signer: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatalf("gitserver: marshal key: %v", err)
	}
	return ClientKey{Signer: signer, PEM: pem.EncodeToMemory(block)}
}

// Addr returns the server's "host:port".
func (s *SSHServer) Addr() string { return s.ln.Addr().String() }

// HostKey returns the server's public host key.
func (s *SSHServer) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// KnownHostsLine returns the known_hosts line for this server, in the
// "[127.0.0.1]:port" form OpenSSH uses for non-standard ports.
func (s *SSHServer) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, s.HostKey())
}

// WriteKnownHosts writes a known_hosts file holding KnownHostsLine into a
// temporary directory and returns its path.
func (s *SSHServer) WriteKnownHosts() string {
	s.t.Helper()
	path := filepath.Join(s.t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(s.KnownHostsLine()+"\n"), 0o600); err != nil {
		s.t.Fatalf("gitserver: %v", err)
	}
	return path
}

// NewClientKey generates a client key pair and authorizes it.
func (s *SSHServer) NewClientKey() ClientKey {
	s.t.Helper()
	k := newKey(s.t)
	s.Authorize(k.Signer.PublicKey())
	return k
}

// Authorize lets clients holding the private key of pub log in.
func (s *SSHServer) Authorize(pub ssh.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[string(pub.Marshal())] = true
}

// Commands returns the commands clients executed, oldest first, e.g.
// "git-upload-pack '/app.git'".
func (s *SSHServer) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

// close stops accepting, drops open connections and waits for their
// goroutines to end.
func (s *SSHServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// track records an open connection so close can drop it.
func (s *SSHServer) track(c net.Conn, open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if open {
		s.conns[c] = true
	} else {
		delete(s.conns, c)
	}
}

func (s *SSHServer) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{PublicKeyCallback: s.checkKey}
	cfg.AddHostKey(s.hostKey)
	return cfg
}

func (s *SSHServer) checkKey(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys[string(key.Marshal())] {
		return &ssh.Permissions{}, nil
	}
	return nil, errors.New("unknown public key")
}

func (s *SSHServer) acceptLoop() {
	defer s.wg.Done()
	cfg := s.config()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.track(conn, true)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.track(conn, false)
			s.serveConn(conn, cfg)
		}()
	}
}

func (s *SSHServer) serveConn(nc net.Conn, cfg *ssh.ServerConfig) {
	defer nc.Close()
	_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only sessions are supported")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveSession(ch, chReqs)
		}()
	}
}

// serveSession handles env and exec requests; the first exec runs a git
// service and ends the session.
func (s *SSHServer) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var env []string
	for req := range reqs {
		switch req.Type {
		case "env":
			env = append(env, parseEnv(req.Payload)...)
			req.Reply(true, nil)
		case "exec":
			var p struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			code := s.exec(ch, p.Command, env)
			ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{code}))
			return
		default:
			req.Reply(false, nil)
		}
	}
}

// parseEnv returns "NAME=value" for a GIT_PROTOCOL env request, which is
// the only variable passed on to git.
func parseEnv(payload []byte) []string {
	var kv struct{ Name, Value string }
	if ssh.Unmarshal(payload, &kv) != nil || kv.Name != "GIT_PROTOCOL" {
		return nil
	}
	return []string{kv.Name + "=" + kv.Value}
}

// exec runs command with the channel as stdio and returns its exit status.
func (s *SSHServer) exec(ch ssh.Channel, command string, env []string) uint32 {
	s.mu.Lock()
	s.commands = append(s.commands, command)
	s.mu.Unlock()
	service, dir, err := s.parseCommand(command)
	if err != nil {
		fmt.Fprintf(ch.Stderr(), "gitserver: %v\n", err)
		return 128
	}
	cmd := exec.Command("git", service, dir)
	cmd.Env = append(gitEnv(), env...)
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintf(ch.Stderr(), "gitserver: %v\n", err)
		return 128
	}
	go func() {
		io.Copy(stdin, ch)
		stdin.Close()
	}()
	return exitStatus(cmd.Wait())
}

// parseCommand maps "git-upload-pack '/app.git'" to the git subcommand and
// the repository directory, refusing anything outside the server root.
func (s *SSHServer) parseCommand(command string) (service, dir string, err error) {
	name, arg, ok := strings.Cut(command, " ")
	switch {
	case !ok:
		return "", "", fmt.Errorf("malformed command %q", command)
	case name != "git-upload-pack" && name != "git-receive-pack":
		return "", "", fmt.Errorf("command %q not allowed", name)
	}
	repo := strings.Trim(strings.TrimSpace(arg), `'"`)
	repo = filepath.Clean("/" + strings.TrimPrefix(repo, "~/"))
	dir = filepath.Join(s.root, repo)
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		return "", "", fmt.Errorf("repository %q not found", repo)
	}
	return strings.TrimPrefix(name, "git-"), dir, nil
}

// exitStatus converts the error of cmd.Wait into an SSH exit status.
func exitStatus(err error) uint32 {
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		return uint32(exitErr.ExitCode())
	default:
		return 128
	}
}
