package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/pvs/pvs/pkg/store/s3"
)

// Env reads a setting of the test environment.
func Env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Require skips the test unless integration tests are enabled.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("PVS_INTEGRATION") != "1" {
		t.Skip("integration test: run through `make test` (PVS_INTEGRATION=1 with the local services up)")
	}
}

// ID returns a short random name part.
func ID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RedisURL is the Redis server of the tests.
func RedisURL() string { return Env("PVS_TEST_REDIS_URL", "redis://127.0.0.1:16379/0") }

// Redis returns a client and a key prefix no other test uses; the prefix's
// keys are deleted at the end of the test.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	Require(t)
	opt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis at %s: %v", RedisURL(), err)
	}
	prefix := "test-" + ID() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	return rdb, prefix
}

// AdminDatabaseURL is the maintenance database of the test server.
func AdminDatabaseURL() string {
	return Env("PVS_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:15432/pvs")
}

// Database creates a database from the PostGIS template and returns its
// URL; it is dropped at the end of the test.
func Database(t testing.TB) string {
	t.Helper()
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := AdminDatabaseURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("postgres at %s: %v", admin, err)
	}
	defer conn.Close(ctx)
	name := "pvs_test_" + ID()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE pvs_template"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	i := strings.LastIndex(admin, "/")
	return admin[:i+1] + name
}

// S3Config returns the configuration of the test S3 server for bucket.
func S3Config(bucket string) s3.Config {
	return s3.Config{
		Endpoint:  Env("PVS_TEST_S3_ENDPOINT", "http://127.0.0.1:19000"),
		Region:    "us-east-1",
		AccessKey: Env("PVS_S3_ACCESS_KEY", "pvsadmin"),
		SecretKey: Env("PVS_S3_SECRET_KEY", "pvsadmin-secret"),
		Bucket:    bucket,
	}
}

// S3Bucket creates a bucket no other test uses and returns a store on it.
func S3Bucket(t testing.TB) *s3.Store {
	t.Helper()
	Require(t)
	st, err := s3.New(S3Config("pvs-test-" + ID()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.CreateBucket(ctx); err != nil {
		t.Fatalf("S3 server at %s: %v", S3Config("").Endpoint, err)
	}
	return st
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
}

// Must fails the test on err.
func Must(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}
