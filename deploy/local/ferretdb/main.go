// Command ferretdb-lite runs FerretDB v1 with its SQLite backend as a tiny
// MongoDB-compatible server for local development and tests.
//
// It lives in its own module on purpose: FerretDB's build/version package panics
// at start-up when FerretDB itself is the main module (no version.txt in the
// published module), but returns early when embedded from another module.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqliteDir := flag.String("sqlite-dir", "ferretdb-data", "directory for the SQLite database files")
	// FerretDB logs every connection at info and dumps every failed command
	// (including the endSessions each PyMongo client sends on close) at warn,
	// so the default keeps only errors.
	logLevel := flag.String("log-level", "error", "FerretDB's own log level: debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-lite: bad -log-level: %v\n", err)
		os.Exit(2)
	}
	// Life-cycle messages ("ready", "stopped") are always written, whatever the level.
	app := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("name", "ferretdb-lite")
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if err := run(app, logger, *listenAddr, *sqliteDir); err != nil {
		app.Error("failed", "error", err)
		os.Exit(1)
	}
}

func run(app, logger *slog.Logger, listenAddr, sqliteDir string) error {
	dir, err := filepath.Abs(sqliteDir)
	if err != nil {
		return err
	}
	// The SQLite backend refuses a missing directory instead of creating it.
	if err = os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	// FerretDB treats SQLiteURL as a directory URI; without the trailing slash
	// it would resolve database files next to the directory, not inside it.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:    logger,
		Handler:   "sqlite",
		// WAL with synchronous=NORMAL: a commit is not fsynced, only checkpoints are. A
		// crash of FerretDB loses nothing; power loss may lose the last commits, like
		// MongoDB's default write concern (acknowledged before the journal's ~100 ms
		// fsync). FULL (SQLite's default) fsynced every single write.
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(normal)",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// New has already bound the TCP socket, so MongoDBURI does not block here.
	app.Info("ready", "uri", f.MongoDBURI(), "sqlite_dir", dir, "pid", os.Getpid())

	err = <-done
	app.Info("stopped")
	return err
}
