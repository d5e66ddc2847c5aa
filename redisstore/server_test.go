package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// requireRedisEnv names the variable that turns a missing redis-server into a failure: CI
// sets it, so that the Redis tests can never be skipped there without anyone noticing.
const requireRedisEnv = "PAYKIT_REQUIRE_REDIS"

// redisServer is a redis-server process of one test, on a loopback port of its own, with
// its files in a temporary directory.
type redisServer struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	args []string
	Addr string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// startRedis starts a redis-server for tb and stops it at cleanup. Without the binary the
// test is skipped, saying why, unless PAYKIT_REQUIRE_REDIS=1 makes that a failure. extra
// arguments go after the defaults (no persistence), e.g. "--appendonly", "yes".
func startRedis(tb testing.TB, extra ...string) *redisServer {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(requireRedisEnv) == "1" {
			tb.Fatalf("redis-server is not on PATH and %s=1 requires the Redis tests to run: %v", requireRedisEnv, err)
		}
		tb.Skipf("redis-server is not on PATH, so the Redis tests are skipped (install it, e.g. apt-get install redis-server; %s=1 makes this a failure)", requireRedisEnv)
	}
	s := &redisServer{tb: tb, bin: bin, dir: tb.TempDir()}
	s.args = append([]string{"--bind", "127.0.0.1", "--dir", s.dir, "--save", "", "--appendonly", "no"}, extra...)
	tb.Cleanup(s.Stop)
	// A free port can be taken by someone else before redis-server binds it: try another.
	for attempt := 0; ; attempt++ {
		s.port = freePort(tb)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		err := s.start()
		if err == nil {
			return s
		}
		if attempt == 4 {
			tb.Fatalf("starting redis-server: %v", err)
		}
	}
}

// freePort returns a loopback port nobody listens on right now.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs redis-server on s.port and waits until it answers PING.
func (s *redisServer) start() error {
	args := append([]string{"--port", strconv.Itoa(s.port)}, s.args...)
	cmd := exec.Command(s.bin, args...)
	out, err := os.Create(fmt.Sprintf("%s/redis-%d.log", s.dir, time.Now().UnixNano()))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	guard := time.After(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			s.mu.Lock()
			s.cmd = cmd
			s.mu.Unlock()
			go func() { <-exited }() // keep reaping; Stop waits on its own
			return nil
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(out.Name())
			return fmt.Errorf("redis-server exited (%v): %s", err, log)
		case <-guard:
			_ = cmd.Process.Kill()
			return fmt.Errorf("redis-server did not answer PING within 10 s: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Stop kills the server at once, as a crash would (SIGKILL); Restart brings it back.
func (s *redisServer) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	// Wait until the port is free, so that a Restart can bind it again.
	guard := time.Now().Add(10 * time.Second)
	for time.Now().Before(guard) {
		c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

// Restart starts the server again on the same port and directory, after Stop.
func (s *redisServer) Restart() {
	s.tb.Helper()
	require.NoError(s.tb, s.start(), "restarting redis-server")
}

// Client returns a new go-redis client of the server, closed at cleanup.
func (s *redisServer) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
