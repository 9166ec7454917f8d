package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/pkg/store/s3"
)

// The shared services are never stopped by a test: other engineers' tests
// use them. A test that must restart or kill a service starts its own
// instance here, on a free port, with its data in a folder of its own.

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// RedisServer is a private redis-server process that persists every write
// (appendonly, fsync always), so that a restart loses nothing acknowledged.
type RedisServer struct {
	t    testing.TB
	Port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts a private Redis; it is killed at the end of the test.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	Require(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	s := &RedisServer{t: t, Port: FreePort(t), dir: t.TempDir()}
	s.Start()
	t.Cleanup(func() { s.signal(syscall.SIGKILL) })
	return s
}

// URL is the server's address as a redis:// URL.
func (s *RedisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port) }

// Client returns a client of the server, closed at the end of the test.
func (s *RedisServer) Client() *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.Port)})
	s.t.Cleanup(func() { rdb.Close() })
	return rdb
}

// Start starts the server (again) on its port and data, and waits until it
// answers.
func (s *RedisServer) Start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(s.Port),
		"--dir", s.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--logfile", filepath.Join(s.dir, "redis.log"))
	Must(s.t, s.cmd.Start(), "start redis-server")
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.Port)})
	defer rdb.Close()
	Eventually(s.t, 20*time.Second, "private redis-server to answer", func() (bool, error) {
		err := rdb.Ping(context.Background()).Err()
		return err == nil, err
	})
}

// Stop shuts the server down cleanly (SIGTERM) and waits for it to exit.
func (s *RedisServer) Stop() { s.signal(syscall.SIGTERM) }

// Kill kills the server (SIGKILL) and waits for it to exit.
func (s *RedisServer) Kill() { s.signal(syscall.SIGKILL) }

func (s *RedisServer) signal(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// PostgresServer is a private PostgreSQL cluster with PostGIS, made with
// initdb and run with pg_ctl (as the postgres user when the tests run as
// root, as scripts/up.sh does).
type PostgresServer struct {
	t    testing.TB
	Port int
	dir  string
	bin  string
}

// StartPostgres makes and starts a private cluster with a database "pvs"
// holding PostGIS; the cluster is stopped and removed at the end of the test.
func StartPostgres(t testing.TB) *PostgresServer {
	t.Helper()
	Require(t)
	bin := Env("PG_BIN", "/usr/lib/postgresql/15/bin")
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		t.Skipf("PostgreSQL binaries not found in %s (set PG_BIN)", bin)
	}
	// Under /tmp, not t.TempDir(): the postgres user must reach the folder,
	// and a test's temporary folders are private to the user running it.
	dir, err := os.MkdirTemp("", "pvs-pg-")
	Must(t, err, "make cluster folder")
	s := &PostgresServer{t: t, Port: FreePort(t), dir: dir, bin: bin}
	t.Cleanup(func() {
		s.pgCtl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		Must(t, err, "find the postgres user (initdb refuses root)")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		Must(t, os.Chown(dir, uid, gid), "give the cluster folder to postgres")
	}
	if out, err := s.as(filepath.Join(bin, "initdb"), "-D", s.data(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C.UTF-8").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	Must(t, err, "connect to the private cluster")
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE pvs")
	Must(t, err, "create database pvs")
	db, err := pgx.Connect(ctx, s.URL())
	Must(t, err, "connect to database pvs")
	defer db.Close(ctx)
	_, err = db.Exec(ctx, "CREATE EXTENSION postgis")
	Must(t, err, "create extension postgis")
	return s
}

func (s *PostgresServer) data() string { return filepath.Join(s.dir, "data") }

// URL is the database "pvs" of the cluster.
func (s *PostgresServer) URL() string { return s.url("pvs") }

func (s *PostgresServer) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s", s.Port, db)
}

// as runs a PostgreSQL program as the postgres user if we are root.
func (s *PostgresServer) as(name string, args ...string) *exec.Cmd {
	if os.Getuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func (s *PostgresServer) pgCtl(args ...string) error {
	args = append([]string{"-D", s.data(), "-w", "-t", "60"}, args...)
	out, err := s.as(filepath.Join(s.bin, "pg_ctl"), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Start starts the cluster (again) and waits until it accepts connections.
func (s *PostgresServer) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=100", s.Port, s.dir)
	Must(s.t, s.pgCtl("-l", filepath.Join(s.dir, "postgres.log"), "-o", opts, "start"), "start the private cluster")
}

// Stop stops the cluster the hard way (immediate mode: as if it crashed;
// it recovers from its WAL at the next start).
func (s *PostgresServer) Stop() {
	s.t.Helper()
	Must(s.t, s.pgCtl("stop", "-m", "immediate"), "stop the private cluster")
}

// S3Server is a private versitygw (the S3 server of scripts/up.sh) over a
// posix folder of its own, so that a test can kill it and start it again
// on the same port and data without disturbing the shared one.
type S3Server struct {
	t    testing.TB
	Port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartS3 starts a private versitygw ($VERSITYGW_BIN); it is killed at the
// end of the test.
func StartS3(t testing.TB) *S3Server {
	t.Helper()
	Require(t)
	if _, err := os.Stat(os.Getenv("VERSITYGW_BIN")); os.Getenv("VERSITYGW_BIN") == "" || err != nil {
		t.Skip("versitygw not found: set VERSITYGW_BIN (scripts/env.sh does)")
	}
	s := &S3Server{t: t, Port: FreePort(t), dir: t.TempDir()}
	for _, d := range []string{"data", "iam"} {
		Must(t, os.MkdirAll(filepath.Join(s.dir, d), 0o755), "make %s folder", d)
	}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// Endpoint is the server's address as an http:// URL.
func (s *S3Server) Endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", s.Port) }

// Config returns the configuration of bucket on the server, with the keys
// of the test environment (the server's root keys).
func (s *S3Server) Config(bucket string) s3.Config {
	c := S3Config(bucket)
	c.Endpoint = s.Endpoint()
	return c
}

// Bucket creates bucket on the server and returns a store on it.
func (s *S3Server) Bucket(name string) *s3.Store {
	s.t.Helper()
	st, err := s3.New(s.Config(name))
	Must(s.t, err, "s3 store")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	Must(s.t, st.CreateBucket(ctx), "create bucket %s on the private S3 server", name)
	return st
}

// Start starts the server (again) on its port and data, and waits until
// its health endpoint answers.
func (s *S3Server) Start() {
	s.t.Helper()
	c := S3Config("")
	s.cmd = exec.Command(os.Getenv("VERSITYGW_BIN"), "--port", fmt.Sprintf("127.0.0.1:%d", s.Port),
		"--iam-dir", filepath.Join(s.dir, "iam"), "--health", "/health", "posix", filepath.Join(s.dir, "data"))
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+c.AccessKey, "ROOT_SECRET_KEY="+c.SecretKey)
	log, err := os.OpenFile(filepath.Join(s.dir, "versitygw.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	Must(s.t, err, "open versitygw log")
	defer log.Close()
	s.cmd.Stdout, s.cmd.Stderr = log, log
	Must(s.t, s.cmd.Start(), "start versitygw")
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	hc := &http.Client{Timeout: time.Second}
	Eventually(s.t, 20*time.Second, "private versitygw to answer", func() (bool, error) {
		resp, err := hc.Get(s.Endpoint() + "/health")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("health: %s", resp.Status)
	})
}

// Kill kills the server (SIGKILL) and waits for it to exit: clients find
// the port closed until Start.
func (s *S3Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}
