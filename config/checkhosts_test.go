package config_test

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/config"
)

// allow.checkHosts is validated entry by entry, naming the field and its
// position.
func TestCheckHostsValidation(t *testing.T) {
	good := []string{"*", "*.staging.acme.internal", "api.acme.com:443", "API.acme.com", "10.0.0.0/8", "10.1.2.3",
		"10.1.2.3:8080", "::1", "[::1]:8080", "fd00::/8", "localhost"}
	bad := []string{"", "http://api.acme.com", "api.acme.com:0", "api.acme.com:99999", "api.acme.com:x", "a..b", "10.0.0.0/33",
		"[api.acme.com]:443", "fe80::1%eth0", "api.acme.com/path", "a b", "-a.com", "10.0.0.0/8:443"}
	for _, h := range good {
		src := strings.Replace(minimalConfig, "WEBHOOK", "{env: W}", 1)
		src = strings.Replace(src, "allow: {accounts: [dev]}", "allow: {accounts: [dev], checkHosts: ['"+h+"']}", 1)
		if _, err := config.Parse("agent.yaml", []byte(src)); err != nil {
			t.Errorf("checkHosts %q: %v", h, err)
		}
	}
	for _, h := range bad {
		src := strings.Replace(minimalConfig, "WEBHOOK", "{env: W}", 1)
		src = strings.Replace(src, "allow: {accounts: [dev]}", "allow: {accounts: [dev], checkHosts: ['*', '"+h+"']}", 1)
		_, err := config.Parse("agent.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), "sources[0].allow.checkHosts[1]") {
			t.Errorf("checkHosts %q: err = %v; want an error naming sources[0].allow.checkHosts[1]", h, err)
		}
	}
}

// Without allow.checkHosts, checks reach any host but loopback,
// link-local, cloud metadata and unspecified addresses; with it, only the
// listed ones, and those ranges only when an address entry lists them.
func TestCheckHostPolicy(t *testing.T) {
	tests := []struct {
		allow []string
		url   string
		ok    bool
	}{
		{nil, "https://api.acme.com/health", true},
		{nil, "http://10.1.2.3:8080/", true},
		{nil, "http://localhost:8080/", true}, // the name is allowed; its address is checked when dialling
		{nil, "http://127.0.0.1:8080/", false},
		{nil, "http://127.1.2.3/", false},
		{nil, "http://[::1]:8080/", false},
		{nil, "http://[::ffff:127.0.0.1]/", false},
		{nil, "http://169.254.169.254/latest/meta-data/", false},
		{nil, "http://[fd00:ec2::254]/", false},
		{nil, "http://[fe80::1%25eth0]/", false},
		{nil, "http://0.0.0.0:8080/", false},
		{nil, "http://[::]:8080/", false},
		{[]string{"*.staging.acme.internal", "api.acme.com:443"}, "https://web.staging.acme.internal/", true},
		{[]string{"*.staging.acme.internal"}, "https://a.b.STAGING.acme.internal./", true},
		{[]string{"*.staging.acme.internal"}, "https://staging.acme.internal/", false},
		{[]string{"api.acme.com:443"}, "https://api.acme.com/", true},
		{[]string{"api.acme.com:443"}, "http://api.acme.com/", false},
		{[]string{"api.acme.com:443"}, "https://api.acme.com:8443/", false},
		{[]string{"api.acme.com"}, "http://10.1.2.3/", false},
		{[]string{"10.0.0.0/8"}, "http://10.1.2.3:9090/", true},
		{[]string{"10.0.0.0/8"}, "http://internal.acme.com/", false},
		{[]string{"*"}, "http://127.0.0.1/", false},
		{[]string{"127.0.0.1"}, "http://127.0.0.1:8080/", true},
		{[]string{"127.0.0.1:8080"}, "http://127.0.0.1:8081/", false},
		{[]string{"[::1]:8080"}, "http://[::1]:8080/", true},
	}
	for _, tt := range tests {
		src := &config.Source{Name: "shop", Allow: config.Tenancy{CheckHosts: tt.allow}}
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		err = src.CheckHostPolicy().AllowURL(u)
		if (err == nil) != tt.ok {
			t.Errorf("allow %v: AllowURL(%s) = %v, want ok=%v", tt.allow, tt.url, err, tt.ok)
		}
	}
	src := &config.Source{Name: "shop"}
	u, _ := url.Parse("http://169.254.169.254/latest/meta-data/")
	err := src.CheckHostPolicy().AllowURL(u)
	var ce *config.CheckHostError
	want := `link-local (cloud metadata) address "169.254.169.254:80" is not in allow.checkHosts of source shop`
	if !errors.As(err, &ce) || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// Addresses that names resolve to are refused in the denied ranges unless
// an address entry lists them; a name entry does not.
func TestCheckHostPolicyAllowAddr(t *testing.T) {
	tests := []struct {
		allow []string
		addr  string
		ok    bool
	}{
		{nil, "10.1.2.3:80", true},
		{nil, "127.0.0.1:8080", false},
		{nil, "[::ffff:169.254.169.254]:80", false},
		{[]string{"localhost"}, "127.0.0.1:8080", false},
		{[]string{"*"}, "[::1]:8080", false},
		{[]string{"127.0.0.0/8"}, "127.0.0.1:8080", true},
		{[]string{"127.0.0.1:8080"}, "127.0.0.1:8080", true},
		{[]string{"127.0.0.1:8080"}, "127.0.0.1:9090", false},
		{[]string{"api.acme.com"}, "10.1.2.3:443", true},
	}
	for _, tt := range tests {
		src := &config.Source{Name: "shop", Allow: config.Tenancy{CheckHosts: tt.allow}}
		err := src.CheckHostPolicy().AllowAddr(netip.MustParseAddrPort(tt.addr))
		if (err == nil) != tt.ok {
			t.Errorf("allow %v: AllowAddr(%s) = %v, want ok=%v", tt.allow, tt.addr, err, tt.ok)
		}
	}
}
