package live

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestConnTLSAndSASL: Conn's options reach a cluster that requires TLS
// (verified with a CA file) and SASL/SCRAM-SHA-256; a wrong password or no
// CA fails.
func TestConnTLSAndSASL(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()

	try := func(conn Conn) error {
		opts, err := conn.Options()
		if err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(append(opts, kgo.RequestRetries(0))...)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return EnsureTopics(ctx, cl, -1, TopicSpec{Name: "t", Partitions: 1})
	}
	good := Conn{Brokers: brokers, TLSCA: ca, SASL: "scram-sha-256", User: "admin", Password: "admin"}
	if err := try(good); err != nil {
		t.Fatalf("TLS + SCRAM: %v", err)
	}
	bad := good
	bad.Password = "wrong"
	if err := try(bad); err == nil {
		t.Error("a wrong password connected")
	}
	noCA := good
	noCA.TLSCA, noCA.TLS = "", true
	if err := try(noCA); err == nil {
		t.Error("a self-signed broker was trusted without --tls-ca")
	}
	for _, c := range []Conn{{}, {Brokers: brokers, SASL: "md5", User: "u"}, {Brokers: brokers, SASL: "plain"},
		{Brokers: brokers, TLSCert: "x.pem"}, {Brokers: brokers, User: "u"}} {
		if _, err := c.Options(); err == nil {
			t.Errorf("Options(%+v) accepted", c)
		}
	}
}
