package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// deniedRanges are the addresses HTTP checks reach only when an address
// entry of allow.checkHosts lists them, with what they are.
var deniedRanges = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "cloud metadata"},
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
}

// hostGlobRE is a host name glob of allow.checkHosts.
var hostGlobRE = regexp.MustCompile(`^[A-Za-z0-9*]([-A-Za-z0-9*.]*[A-Za-z0-9*])?$`)

// checkHostEntry is one parsed allow.checkHosts entry: a host name glob
// or an address range, and a port ("" for any).
type checkHostEntry struct {
	glob   string
	prefix netip.Prefix
	port   string
}

// parseCheckHost parses an allow.checkHosts entry.
func parseCheckHost(entry string) (checkHostEntry, bool) {
	if strings.Contains(entry, "/") {
		p, err := netip.ParsePrefix(entry)
		return checkHostEntry{prefix: p.Masked()}, err == nil && p.Addr().Zone() == ""
	}
	if a, err := netip.ParseAddr(entry); err == nil {
		return addrEntry(a, "")
	}
	host, port := entry, ""
	if strings.HasPrefix(entry, "[") || strings.Count(entry, ":") == 1 {
		h, p, err := net.SplitHostPort(entry)
		if n, perr := strconv.Atoi(p); err != nil || perr != nil || n < 1 || n > 65535 || p != strconv.Itoa(n) {
			return checkHostEntry{}, false
		}
		host, port = h, p
		if a, err := netip.ParseAddr(host); err == nil {
			return addrEntry(a, port)
		}
		if strings.HasPrefix(entry, "[") {
			return checkHostEntry{}, false
		}
	}
	if !hostGlobRE.MatchString(host) || strings.Contains(host, "..") {
		return checkHostEntry{}, false
	}
	return checkHostEntry{glob: strings.ToLower(host), port: port}, true
}

func addrEntry(a netip.Addr, port string) (checkHostEntry, bool) {
	if a.Zone() != "" {
		return checkHostEntry{}, false
	}
	a = a.Unmap()
	return checkHostEntry{prefix: netip.PrefixFrom(a, a.BitLen()), port: port}, true
}

// matches reports whether e allows host (a name, lowercased, or an
// address) at port.
func (e checkHostEntry) matches(name string, addr netip.Addr, port string) bool {
	if e.port != "" && e.port != port {
		return false
	}
	if e.glob != "" {
		ok, _ := path.Match(e.glob, name)
		return name != "" && ok
	}
	return addr.IsValid() && e.prefix.Contains(addr)
}

// CheckHostPolicy is where one source's HTTP checks may send requests:
// its allow.checkHosts (reconcile.CheckHosts).
type CheckHostPolicy struct {
	source  string
	entries []checkHostEntry
}

// CheckHostPolicy returns where the source's HTTP checks may send
// requests.
func (s *Source) CheckHostPolicy() *CheckHostPolicy {
	p := &CheckHostPolicy{source: s.Name}
	for _, e := range s.Allow.CheckHosts {
		if ce, ok := parseCheckHost(e); ok {
			p.entries = append(p.entries, ce)
		}
	}
	return p
}

// AllowURL returns a *CheckHostError unless a check may request u: its host
// (a name or an address) and port must match an entry of allow.checkHosts
// or, when there is none, its address must be outside the denied ranges.
func (p *CheckHostPolicy) AllowURL(u *url.URL) error {
	host, port := strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	addr, err := netip.ParseAddr(host)
	if err == nil {
		addr = addr.WithZone("").Unmap()
		host = ""
	}
	for _, e := range p.entries {
		if e.matches(host, addr, port) {
			return nil
		}
	}
	what := denied(addr)
	if len(p.entries) == 0 && what == "" {
		return nil
	}
	return p.refuse(what, net.JoinHostPort(u.Hostname(), port))
}

// AllowAddr returns a *CheckHostError when addr, which a host name resolved
// to, is in a denied range and no address entry of allow.checkHosts lists
// it. Other addresses are allowed: the name was checked by AllowURL.
func (p *CheckHostPolicy) AllowAddr(addr netip.AddrPort) error {
	a, port := addr.Addr().WithZone("").Unmap(), strconv.Itoa(int(addr.Port()))
	what := denied(a)
	if what == "" {
		return nil
	}
	for _, e := range p.entries {
		if e.glob == "" && e.matches("", a, port) {
			return nil
		}
	}
	return p.refuse(what, net.JoinHostPort(a.String(), port))
}

func (p *CheckHostPolicy) refuse(what, hostPort string) error {
	return &CheckHostError{Source: p.source, Range: what, HostPort: hostPort}
}

// CheckHostError says that a source's HTTP check may not request a host,
// or connect to an address. It is short, as it ends up in commit statuses.
type CheckHostError struct {
	Source string
	// Range is what the address is when it is in a range that must be
	// listed explicitly ("loopback", "cloud metadata"...), or "".
	Range string
	// HostPort is the host (name or address) and port refused.
	HostPort string
}

// Error says what was refused and where it can be allowed.
func (e *CheckHostError) Error() string {
	what := "host"
	if e.Range != "" {
		what = e.Range + " address"
	}
	return fmt.Sprintf("%s %q is not in allow.checkHosts of source %s", what, e.HostPort, e.Source)
}

// denied says what addr is when it is in a denied range, or "".
func denied(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	for _, r := range deniedRanges {
		if r.prefix.Contains(addr) {
			return r.what
		}
	}
	return ""
}
