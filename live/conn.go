package live

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Conn says how to reach a cluster: brokers, TLS and SASL (docs/live.md,
// "Connecting").
type Conn struct {
	Brokers []string
	// TLS turns on TLS; with none of the files below, the system's roots
	// verify the brokers.
	TLS bool
	// TLSCA is a PEM file of CA certificates that verify the brokers.
	TLSCA string
	// TLSCert and TLSKey are a PEM client certificate and key (mutual TLS).
	TLSCert, TLSKey string
	// TLSServerName overrides the name checked in the brokers' certificates.
	TLSServerName string
	// SASL is the mechanism: "" (none), "plain", "scram-sha-256" or
	// "scram-sha-512"; with User and Password. Use SASL over TLS: PLAIN
	// sends the password as it is.
	SASL           string
	User, Password string
}

// Options returns the client options of c.
func (c Conn) Options() ([]kgo.Opt, error) {
	if len(c.Brokers) == 0 {
		return nil, fmt.Errorf("no brokers: give --brokers host:port[,host:port...]")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...)}
	if c.TLS || c.TLSCA != "" || c.TLSCert != "" || c.TLSServerName != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName}
		if c.TLSCA != "" {
			pem, err := os.ReadFile(c.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("--tls-ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", c.TLSCA)
			}
			cfg.RootCAs = pool
		}
		if (c.TLSCert == "") != (c.TLSKey == "") {
			return nil, fmt.Errorf("--tls-cert and --tls-key go together (a client certificate and its key)")
		}
		if c.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
			if err != nil {
				return nil, fmt.Errorf("--tls-cert %s / --tls-key %s: %w", c.TLSCert, c.TLSKey, err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	switch m := strings.ToLower(c.SASL); m {
	case "":
		if c.User != "" {
			return nil, fmt.Errorf("--sasl-user without --sasl: give --sasl plain, scram-sha-256 or scram-sha-512")
		}
	case "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: c.User, Pass: c.Password}.AsMechanism()))
	case "scram-sha-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.User, Pass: c.Password}.AsSha256Mechanism()))
	case "scram-sha-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.User, Pass: c.Password}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("--sasl %q: want plain, scram-sha-256 or scram-sha-512", c.SASL)
	}
	if c.SASL != "" && c.User == "" {
		return nil, fmt.Errorf("--sasl %s needs --sasl-user (and the password in $SIGNALAB_SASL_PASSWORD)", c.SASL)
	}
	return opts, nil
}
