package gateway

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/drawbridge-gw/drawbridge/internal/config"
)

// Watcher reloads a config file on SIGHUP and when the file changes.
// A config that fails to load or compile is refused and logged with every
// problem; the config in force keeps serving.
type Watcher struct {
	// Path is the config file.
	Path string
	// Source resolves ${VAR} and ${file:...} references.
	Source config.Source
	// Apply puts a loaded config in force (Server.Reload).
	Apply func(*config.File) error
	// Logger receives reload outcomes. If nil, they are discarded.
	Logger *slog.Logger
	// Debounce groups bursts of file events (editors write several). If
	// zero, 200ms.
	Debounce time.Duration
	// Metrics counts reloads refused because the file does not load, in
	// drawbridge_config_reloads_total{result="refused"}; Apply counts the
	// configs it is given (Gateway.Load does). If nil, such refusals are
	// only logged.
	Metrics *Metrics
}

// Run watches until ctx is done, then returns nil. If the file cannot be
// watched (the inotify limits are reached, say), it logs why and reloads
// on SIGHUP only.
func (w *Watcher) Run(ctx context.Context) error {
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
	if w.Debounce == 0 {
		w.Debounce = 200 * time.Millisecond
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// Returning here would also stop SIGHUP reloads, and signal.Stop
	// would restore SIGHUP's default action: terminating the gateway.
	abs, fw, err := watchDir(w.Path)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if err != nil {
		w.Logger.Warn("cannot watch the config file; reload with SIGHUP", "file", w.Path, "error", err.Error())
	} else {
		defer fw.Close()
		events, errs = fw.Events, fw.Errors
	}
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			w.reload("SIGHUP")
		case ev := <-events:
			if filepath.Clean(ev.Name) != abs || ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) == 0 {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(w.Debounce)
			} else {
				timer.Reset(w.Debounce)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			w.reload("file change")
		case err := <-errs:
			w.Logger.Warn("config watch error", "error", err.Error())
		}
	}
}

// watchDir watches the directory of path, whose absolute form it returns.
// It watches the directory because editors and config managers replace
// files by rename, which a watch on the file itself would lose.
func watchDir(path string) (string, *fsnotify.Watcher, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return "", nil, err
	}
	if err := fw.Add(filepath.Dir(abs)); err != nil {
		fw.Close()
		return "", nil, err
	}
	return abs, fw, nil
}

func (w *Watcher) reload(trigger string) {
	f, err := config.Load(w.Path, w.Source)
	if err != nil {
		if w.Metrics != nil {
			w.Metrics.reloads.WithLabelValues("refused").Inc()
		}
	} else {
		err = w.Apply(f)
	}
	if err != nil {
		w.Logger.Error("config reload refused; the previous config keeps serving", "trigger", trigger, "file", w.Path, "problems", err.Error())
		return
	}
	w.Logger.Info("config reloaded", "trigger", trigger, "file", w.Path, "routes", len(f.Config.Routes))
}
