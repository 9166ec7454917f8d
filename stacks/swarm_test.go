package stacks

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Ports of the stack test on this host: Traefik's web and websecure
// entrypoints and each collection's S3 server (host-mode ports).
const (
	webPort       = "18480"
	websecurePort = "18443"
	promPort      = "18490"
)

// swarm runs the docker CLI for the stack test and remembers what it made.
type swarm struct {
	t    *testing.T
	root string
	env  []string // extra environment of every docker command
}

// docker runs a docker command and returns its combined output.
func (s *swarm) docker(args ...string) (string, error) {
	return s.dockerEnv(nil, args...)
}

func (s *swarm) dockerEnv(env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Dir = s.root
	cmd.Env = append(append(os.Environ(), s.env...), env...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// must runs a docker command that has to succeed.
func (s *swarm) must(args ...string) string {
	s.t.Helper()
	out, err := s.docker(args...)
	if err != nil {
		s.t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// secret creates (or replaces) a swarm secret.
func (s *swarm) secret(name string, value []byte) {
	s.t.Helper()
	s.docker("secret", "rm", name)
	cmd := exec.Command("docker", "secret", "create", name, "-")
	cmd.Stdin = bytes.NewReader(value)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("docker secret create %s: %v\n%s", name, err, out)
	}
}

// collection describes one collection stack under test.
type collection struct {
	stack, name, host, s3Port, sample string
	sampleTime                        string // the sample's acquisition interval, as seed items name it
}

var (
	vhr18 = collection{stack: "vhr18", name: "VHR_IMAGE_2018", host: "vhr18.localhost", s3Port: "19100",
		sample: "VHR18_SAMPLE_RGB_20180615", sampleTime: "2018-06-15T15:20:00Z/2018-06-15T15:20:30Z"}
	emg = collection{stack: "emg", name: "Emergency", host: "emg.localhost", s3Port: "19101",
		sample: "EMG_SAMPLE_RGB_20180616", sampleTime: "2018-06-16T15:20:00Z/2018-06-16T15:20:30Z"}
)

// deployEnv is the environment `docker stack deploy` reads for a
// collection stack, as docs/operations.md sets it.
func (c collection) deployEnv(configVersion string) []string {
	up := strings.ToUpper(c.stack)
	return []string{"PVS_STACK=" + c.stack, "S3_ENDPOINT=http://s3:7070", "PVS_S3_PORT=" + c.s3Port,
		up + "_HOST=" + c.host, up + "_CONFIG_VERSION=" + configVersion, "PVS_SCHEME=https"}
}

// deploy deploys a collection stack from dir (the repository, or a copy
// with a changed configuration) with the local override. The config's
// version is its file's hash, as docs/operations.md tells operators.
func (s *swarm) deploy(c collection, dir string, extra ...string) string {
	s.t.Helper()
	cfg, err := os.ReadFile(filepath.Join(dir, "config", c.stack+".yaml"))
	if err != nil {
		s.t.Fatal(err)
	}
	version := fmt.Sprintf("%x", sha256.Sum256(cfg))[:12]
	env := append(c.deployEnv(version), extra...)
	out, err := s.dockerEnv(env, "stack", "deploy", "--prune", "--resolve-image", "never",
		"-c", filepath.Join(dir, "docker-compose."+c.stack+".yml"), "-c", filepath.Join(s.root, "stacks/local/collection.yml"), c.stack)
	if err != nil {
		s.t.Fatalf("deploy %s: %v\n%s", c.stack, err, out)
	}
	return version
}

// converged waits until every service of the stacks runs all its replicas
// (healthy, for those with a health check) and one-shot services completed.
func (s *swarm) converged(timeout time.Duration, stacks ...string) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ok := true
		var b strings.Builder
		for _, st := range stacks {
			out, err := s.docker("stack", "services", st, "--format", "{{.Name}} {{.Replicas}}")
			if err != nil {
				ok = false
				b.WriteString(out)
				continue
			}
			for _, line := range strings.Split(out, "\n") {
				f := strings.Fields(line)
				if len(f) < 2 {
					continue
				}
				b.WriteString(line + "\n")
				if strings.HasSuffix(f[0], "_migrate") {
					if !s.completed(f[0]) {
						ok = false
					}
					continue
				}
				n := strings.SplitN(f[1], "/", 2)
				if len(n) != 2 || n[0] != n[1] || !s.healthy(f[0]) {
					ok = false
				}
			}
		}
		last = b.String()
		if ok {
			return
		}
		time.Sleep(2 * time.Second)
	}
	s.t.Fatalf("stacks %v did not converge in %s:\n%s", stacks, timeout, last)
}

// completed tells whether a one-shot service's last task completed.
func (s *swarm) completed(service string) bool {
	out, _ := s.docker("service", "ps", service, "--format", "{{.CurrentState}}")
	return strings.Contains(out, "Complete")
}

// healthy tells whether every running container of a service is healthy
// (or has no health check) and, after a rolling update, is of the
// service's current image.
func (s *swarm) healthy(service string) bool {
	ids := s.containers(service)
	if len(ids) == 0 {
		return false
	}
	for _, id := range ids {
		out, err := s.docker("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", id)
		if err != nil || (out != "healthy" && out != "none") {
			return false
		}
	}
	return true
}

// containers lists the running containers of a service.
func (s *swarm) containers(service string) []string {
	out, _ := s.docker("ps", "-q", "--filter", "label=com.docker.swarm.service.name="+service, "--filter", "status=running")
	return strings.Fields(out)
}

// exec runs a command in a running container of the service, as an
// operator does to use the CLI inside the swarm.
func (s *swarm) exec(service string, args ...string) (string, error) {
	ids := s.containers(service)
	if len(ids) == 0 {
		return "", fmt.Errorf("no running container of %s", service)
	}
	return s.docker(append([]string{"exec", ids[0]}, args...)...)
}

// teardown removes what the test deployed; images and the swarm stay.
func (s *swarm) teardown() {
	for _, st := range []string{"monitoring", "emg", "vhr18", "base"} {
		s.docker("stack", "rm", st)
	}
	for i := 0; i < 90; i++ {
		out, _ := s.docker("ps", "-aq", "--filter", "label=com.docker.stack.namespace")
		if out == "" {
			break
		}
		time.Sleep(time.Second)
	}
	out, _ := s.docker("volume", "ls", "-q")
	for _, v := range strings.Fields(out) {
		for _, st := range []string{"vhr18_", "emg_", "monitoring_"} {
			if strings.HasPrefix(v, st) {
				s.docker("volume", "rm", "-f", v)
			}
		}
	}
	for i := 0; i < 30; i++ {
		if _, err := s.docker("network", "rm", "pvs-public"); err == nil || !s.networkExists("pvs-public") {
			break
		}
		time.Sleep(time.Second)
	}
	out, _ = s.docker("config", "ls", "-q")
	if out != "" {
		s.docker(append([]string{"config", "rm"}, strings.Fields(out)...)...)
	}
}

func (s *swarm) networkExists(name string) bool {
	_, err := s.docker("network", "inspect", name)
	return err == nil
}

// selfSigned makes a certificate and key for the test's host names.
func selfSigned(t *testing.T, hosts ...string) (certPEM, keyPEM []byte, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: hosts[0]},
		DNSNames: hosts, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), pool
}

// client reaches the stacks' host names on this machine's Traefik, over
// HTTPS with the test's certificate, or plain HTTP.
func client(pool *x509.CertPool) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		port := webPort
		if strings.HasSuffix(addr, ":443") {
			port = websecurePort
		}
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, "127.0.0.1:"+port)
	}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: dial,
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 4}}
}

// execOut runs a command and returns its combined output.
func execOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
