package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/httpapi"
)

// apiServer is the api role of a replica: its HTTP server, and whether River runs (/readyz).
type apiServer struct {
	srv          *httpapi.Server
	riverStarted atomic.Bool
}

// listenAPI binds the HTTP server when roles include api. When http.listen was left at its
// default and another process serves it (another replica on this host), it logs that and
// returns roles without api; when it was set explicitly, that is an error naming the address.
func (a *app) listenAPI(roles []string, hub *db.Hub) ([]string, *apiServer, error) {
	if !slices.Contains(roles, RoleAPI) {
		return roles, nil, nil
	}
	cfg := a.cfg.HTTP
	s := &apiServer{}
	s.srv = httpapi.New(httpapi.Config{
		Listen: cfg.Listen, MaxBody: cfg.MaxBody,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout, ReadTimeout: cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout,
		MetricsPublic: a.cfg.Metrics.Public,
	}, httpapi.Deps{
		DB: a.db, Pipeline: a.p, Registry: a.registry, Secrets: a.p.Secrets, Hub: hub,
		RiverStarted: s.riverStarted.Load, Log: a.log,
	})
	err := s.srv.Listen()
	switch {
	case errors.Is(err, httpapi.ErrAddrInUse) && !cfg.ListenSet:
		a.log.Warn("http.listen is in use, probably by another attune replica on this host: running without the api role; set http.listen to serve the API here too",
			"addr", cfg.Listen)
		return slices.DeleteFunc(slices.Clone(roles), func(r string) bool { return r == RoleAPI }), nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("the api role cannot listen on %s (http.listen): %w; pick a free address or leave the api role out (--roles)", cfg.Listen, err)
	}
	return roles, s, nil
}

// warnOpenWebhooks logs every webhook that anyone may post to (verify none).
func (a *app) warnOpenWebhooks(ctx context.Context) {
	hooks, err := a.db.AutoCommit().Webhooks(ctx)
	if err != nil {
		a.log.Warn("listing webhooks failed", "error", err)
		return
	}
	for _, h := range hooks {
		if h.Verify == httpapi.VerifyNone {
			a.log.Warn("webhook accepts unauthenticated requests (verify none)", "webhook", h.Name)
		}
	}
}

// localKeyFile is where the embedded default keeps the key the CLI uses by itself.
func (a *app) localKeyFile() string { return filepath.Join(a.cfg.DataDir, "api-key") }

// ensureLocalKey creates the API key named local on the embedded default, once, and writes it
// to <data_dir>/api-key with mode 0600. A key whose file was deleted is revoked and replaced.
func (a *app) ensureLocalKey(ctx context.Context) error {
	path := a.localKeyFile()
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return a.db.InTx(ctx, func(q *db.Queries) error {
		if err := q.APIKeyLock(ctx); err != nil {
			return err
		}
		if _, err := os.Stat(path); err == nil {
			return nil // another replica made it while this one waited
		}
		if err := q.APIKeyRevoke(ctx, "local"); err != nil && !errors.Is(err, attune.ErrNotFound) {
			return err
		}
		key, hash := httpapi.NewKey()
		if _, err := q.APIKeyInsert(ctx, "local", hash); err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("write the local api key: %w", err)
		}
		_, err = f.WriteString(key + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return fmt.Errorf("write the local api key %s: %w", path, err)
		}
		a.log.Info("created the api key local", "file", path)
		return nil
	})
}
