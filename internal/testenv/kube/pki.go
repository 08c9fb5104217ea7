package kube

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki is the cluster's certificate authority and the files issued from it.
// Keys are ECDSA P-256: every component accepts them and they are generated
// in microseconds, where RSA would cost a noticeable part of start-up.
type pki struct {
	dir    string
	cert   *x509.Certificate
	key    crypto.Signer
	caPEM  []byte
	serial int64
}

// Paths of the files written by writePKI, relative to the PKI directory.
const (
	caCertFile     = "ca.crt"
	caKeyFile      = "ca.key"
	servingCert    = "apiserver.crt"
	servingKey     = "apiserver.key"
	adminCert      = "admin.crt"
	adminKey       = "admin.key"
	saSigningKey   = "sa.key"
	saVerifyingKey = "sa.pub"
)

// writePKI creates a CA, the API server's serving certificate, an admin
// client certificate in system:masters and the service-account key pair.
func writePKI(dir string) (*pki, error) {
	p := &pki{dir: dir}
	steps := []func() error{p.writeCA, p.writeServing, p.writeAdmin, p.writeServiceAccountKeys}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("pki: %w", err)
		}
	}
	return p, nil
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

func (p *pki) writeCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := p.template(pkix.Name{CommonName: "jibe-testenv-ca"})
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return err
	}
	if p.cert, err = x509.ParseCertificate(der); err != nil {
		return err
	}
	p.key = key
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return p.writeKeyPair(caCertFile, caKeyFile, der, key)
}

func (p *pki) writeServing() error {
	tmpl := p.template(pkix.Name{CommonName: "kube-apiserver"})
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, net.IPv4(10, 96, 0, 1)}
	tmpl.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	return p.issue(tmpl, servingCert, servingKey)
}

func (p *pki) writeAdmin() error {
	tmpl := p.template(pkix.Name{CommonName: "jibe-testenv-admin", Organization: []string{"system:masters"}})
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return p.issue(tmpl, adminCert, adminKey)
}

func (p *pki) writeServiceAccountKeys() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	if err := writePEM(p.path(saVerifyingKey), "PUBLIC KEY", der); err != nil {
		return err
	}
	return writePrivateKey(p.path(saSigningKey), key)
}

func (p *pki) template(subject pkix.Name) *x509.Certificate {
	p.serial++
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
}

func (p *pki) issue(tmpl *x509.Certificate, certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, key.Public(), p.key)
	if err != nil {
		return err
	}
	return p.writeKeyPair(certFile, keyFile, der, key)
}

func (p *pki) writeKeyPair(certFile, keyFile string, der []byte, key *ecdsa.PrivateKey) error {
	if err := writePEM(p.path(certFile), "CERTIFICATE", der); err != nil {
		return err
	}
	return writePrivateKey(p.path(keyFile), key)
}

func writePrivateKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "EC PRIVATE KEY", der)
}

func writePEM(path, blockType string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600)
}
