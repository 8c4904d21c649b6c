package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"

	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresServer is a private PostgreSQL instance of one test: its own
// data directory and port, so that a test may stop and restart it to see
// how drawbridge behaves while its database is down.
type PostgresServer struct {
	// Port is the TCP port on 127.0.0.1.
	Port int
	bin  string // directory of initdb, pg_ctl
	dir  string // data directory, also the socket directory
	user *user.User
}

// PrivatePostgres initialises (initdb) and starts a PostgreSQL instance in
// a temporary directory on a free port, with trust authentication for
// user postgres and fsync off (tests need speed, not durability across
// power loss). When the test runs as root the server runs as the
// postgres user (runuser -u postgres), since PostgreSQL refuses root. The
// server is stopped and its directory removed when the test ends.
func PrivatePostgres(t testing.TB) *PostgresServer {
	t.Helper()
	bin, err := postgresBin()
	if err != nil {
		Need(t, "PostgreSQL server binaries (initdb, pg_ctl)", err)
	}
	s := &PostgresServer{bin: bin}
	if os.Getuid() == 0 {
		if s.user, err = user.Lookup("postgres"); err != nil {
			Need(t, "the postgres system user (to run PostgreSQL as root)", err)
		}
	}
	s.dir, err = os.MkdirTemp("", "drawbridge-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.pgctl("stop", "-m", "immediate")
		os.RemoveAll(s.dir)
	})
	if s.user != nil {
		uid, _ := strconv.Atoi(s.user.Uid)
		gid, _ := strconv.Atoi(s.user.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := s.run("initdb", "-D", s.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("testenv: initdb: %v\n%s", err, out)
	}
	var last error
	for range 5 {
		if s.Port, err = freePort(); err != nil {
			t.Fatal(err)
		}
		conf := fmt.Sprintf("\n# testenv\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
			"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 50\n", s.Port, s.dir)
		if err := appendFile(filepath.Join(s.dir, "postgresql.auto.conf"), conf); err != nil {
			t.Fatal(err)
		}
		if last = s.start(); last == nil {
			return s
		}
	}
	t.Fatalf("testenv: starting PostgreSQL: %v", last)
	return nil
}

// DSN is the URL of database postgres on the instance.
func (s *PostgresServer) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", s.Port)
}

// Database creates a fresh database on the instance and returns its DSN.
// It is dropped when the test ends, if the server is running then.
func (s *PostgresServer) Database(t testing.TB) string {
	t.Helper()
	return createDatabase(t, s.DSN())
}

// Stop shuts the server down (fast mode: sessions are ended) and waits
// until it is gone.
func (s *PostgresServer) Stop(t testing.TB) {
	t.Helper()
	if out, err := s.pgctl("stop", "-m", "fast"); err != nil {
		t.Fatalf("testenv: pg_ctl stop: %v\n%s", err, out)
	}
}

// Start starts a stopped server again, on the same port and data.
func (s *PostgresServer) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("testenv: restarting PostgreSQL on port %d: %v", s.Port, err)
	}
}

func (s *PostgresServer) start() error {
	if out, err := s.pgctl("start", "-l", filepath.Join(s.dir, "server.log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, tail(log))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

func (s *PostgresServer) pgctl(args ...string) ([]byte, error) {
	return s.run("pg_ctl", append([]string{"-D", s.dir, "-w", "-t", "30"}, args...)...)
}

// run runs one of PostgreSQL's programs, as the postgres user when the
// test runs as root.
func (s *PostgresServer) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	var cmd *exec.Cmd
	if s.user != nil {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// postgresBin finds the directory of initdb and pg_ctl: Debian keeps them
// in /usr/lib/postgresql/VERSION/bin, out of PATH; the newest wins.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	p, err := exec.LookPath("initdb")
	if err != nil {
		return "", fmt.Errorf("no initdb in /usr/lib/postgresql/*/bin or PATH")
	}
	return filepath.Dir(p), nil
}

func version(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func appendFile(name, text string) error {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
