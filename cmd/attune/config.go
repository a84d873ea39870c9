package main

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/attune-run/attune/engine"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/secrets"
)

// Config is attune's whole configuration. Only this package reads it; other packages take the
// typed parts they need.
type Config struct {
	DataDir   string          `mapstructure:"data_dir" json:"data_dir"`
	Roles     string          `mapstructure:"roles" json:"roles"`
	Database  DatabaseConfig  `mapstructure:"database" json:"database"`
	Worker    WorkerConfig    `mapstructure:"worker" json:"worker"`
	Runtimes  RuntimesConfig  `mapstructure:"runtimes" json:"runtimes"`
	River     RiverConfig     `mapstructure:"river" json:"river"`
	Packs     PacksConfig     `mapstructure:"packs" json:"packs"`
	Log       LogConfig       `mapstructure:"log" json:"log"`
	Shutdown  ShutdownConfig  `mapstructure:"shutdown" json:"shutdown"`
	Retention RetentionConfig `mapstructure:"retention" json:"retention"`
	Secrets   SecretsConfig   `mapstructure:"secrets" json:"secrets"`
	HTTP      HTTPConfig      `mapstructure:"http" json:"http"`
	Metrics   MetricsConfig   `mapstructure:"metrics" json:"metrics"`
	Workflows WorkflowsConfig `mapstructure:"workflows" json:"workflows"`
	Pipeline  PipelineConfig  `mapstructure:"pipeline" json:"pipeline"`
}

// PipelineConfig tunes the pipeline's steps.
type PipelineConfig struct {
	// BatchSize is how many concurrent jobs of one kind (event processing; dispatch claims and
	// outcomes) at most share one transaction (group commit); 1 gives each its own.
	BatchSize int `mapstructure:"batch_size" json:"batch_size"`
}

// WorkflowsConfig configures the workflow conductor.
type WorkflowsConfig struct {
	// MaxTaskRuns is how many task runs one workflow may start before it is failed as a
	// runaway loop.
	MaxTaskRuns int `mapstructure:"max_task_runs" json:"max_task_runs"`
}

// HTTPConfig configures the HTTP server of the api role.
type HTTPConfig struct {
	// Listen is host:port. Left at its default and taken by another replica, the api role is
	// skipped; set explicitly and taken, attune start fails.
	Listen            string        `mapstructure:"listen" json:"listen"`
	MaxBody           int64         `mapstructure:"max_body" json:"max_body"` // bytes; 413 past it
	ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout" json:"read_header_timeout"`
	ReadTimeout       time.Duration `mapstructure:"read_timeout" json:"read_timeout"`
	WriteTimeout      time.Duration `mapstructure:"write_timeout" json:"write_timeout"`
	IdleTimeout       time.Duration `mapstructure:"idle_timeout" json:"idle_timeout"`
	// ListenSet reports whether http.listen was given (file, environment or flag), not defaulted.
	ListenSet bool `mapstructure:"-" json:"-"`
}

// MetricsConfig configures /metrics.
type MetricsConfig struct {
	Public bool `mapstructure:"public" json:"public"` // serve /metrics without an API key
}

// SecretsConfig holds the key that secret parameters are encrypted with at rest.
type SecretsConfig struct {
	// Key is base64 of 32 random bytes (head -c32 /dev/urandom | base64), the same on every
	// replica. Empty: actions given a secret parameter are refused.
	Key string `mapstructure:"key" json:"key"`
}

// ShutdownConfig says how a replica stops.
type ShutdownConfig struct {
	// Grace is how long running actions may finish after SIGTERM before they are killed and
	// recorded abandoned.
	Grace time.Duration `mapstructure:"grace" json:"grace"`
}

// RetentionConfig says how long attune keeps its history.
type RetentionConfig struct {
	Days int `mapstructure:"days" json:"days"` // events, enforcements and finished executions
}

// DatabaseConfig says where attune's database is. An empty URL runs the embedded cluster.
type DatabaseConfig struct {
	URL      string `mapstructure:"url" json:"url"`
	MaxConns int32  `mapstructure:"max_conns" json:"max_conns"`
	// MinConns is how many connections each process opens at start and keeps open, so that the
	// first work (a timer's first tick) does not wait for connections to be made.
	MinConns    int32 `mapstructure:"min_conns" json:"min_conns"`
	AutoMigrate bool  `mapstructure:"auto_migrate" json:"auto_migrate"`
	// PlanCacheMode is PostgreSQL's plan_cache_mode for attune's sessions: force_generic_plan
	// (default) plans each prepared statement once per connection, where PostgreSQL's auto
	// would re-plan River's array-parameter queries on every call; auto keeps the server's.
	PlanCacheMode string `mapstructure:"plan_cache_mode" json:"plan_cache_mode"`
}

// WorkerConfig tunes the workers role.
type WorkerConfig struct {
	Name            string `mapstructure:"name" json:"name"`
	Concurrency     int    `mapstructure:"concurrency" json:"concurrency"`
	NoopConcurrency int    `mapstructure:"noop_concurrency" json:"noop_concurrency"`
	// Heartbeat is how often a replica records that it is alive.
	Heartbeat time.Duration `mapstructure:"heartbeat" json:"heartbeat"`
	// SilentAfter is how long a replica may go unheard before its running executions are
	// declared abandoned.
	SilentAfter time.Duration `mapstructure:"silent_after" json:"silent_after"`
	// RescueAfter is River's RescueStuckJobsAfter for dispatch jobs; 0 derives it from the
	// default action timeout: a little more than it.
	RescueAfter time.Duration `mapstructure:"rescue_after" json:"rescue_after"`
}

// RuntimesConfig configures the action runtimes.
type RuntimesConfig struct {
	Shell     string        `mapstructure:"shell" json:"shell"`
	Python    string        `mapstructure:"python" json:"python"`
	OutputCap int           `mapstructure:"output_cap" json:"output_cap"`
	KillGrace time.Duration `mapstructure:"kill_grace" json:"kill_grace"`
	// WorkDir is where workers write the entry points they run; "" means <data_dir>/actions.
	WorkDir string `mapstructure:"work_dir" json:"work_dir"`
}

// actionsDir returns the absolute runtimes.work_dir: by default the actions directory under
// data_dir.
func (c *Config) actionsDir() (string, error) {
	dir := c.Runtimes.WorkDir
	if dir == "" {
		dir = filepath.Join(c.DataDir, "actions")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("runtimes.work_dir %q: %w", dir, err)
	}
	return abs, nil
}

// RiverConfig tunes the River client.
type RiverConfig struct {
	FetchCooldown     time.Duration `mapstructure:"fetch_cooldown" json:"fetch_cooldown"`
	FetchPollInterval time.Duration `mapstructure:"fetch_poll_interval" json:"fetch_poll_interval"`
}

// PacksConfig says which packs attune registers at start.
type PacksConfig struct {
	Demo string   `mapstructure:"demo" json:"demo"` // auto (embedded database only), true, false
	Dirs []string `mapstructure:"dirs" json:"dirs"`
	// Config overrides packs' config defaults, by pack ref: templates see the pack.yaml config
	// merged with this (see packs.MergeConfig). Read from the config file with its keys' case
	// kept, or from ATTUNE_PACKS_CONFIG as a JSON object; see loadPackConfig.
	Config map[string]map[string]any `mapstructure:"-" json:"config"`
	// ConfigDir is a directory of <pack>.yaml config files, as StackStorm's
	// /opt/stackstorm/configs; Config is merged over them.
	ConfigDir string `mapstructure:"config_dir" json:"config_dir"`
	// PipIndexURL is the package index pip installs packs' requirements.txt from, into each
	// pack's virtualenv; "" (the default) installs nothing.
	PipIndexURL string `mapstructure:"pip_index_url" json:"pip_index_url"`
}

// LogConfig configures logging.
type LogConfig struct {
	Format string `mapstructure:"format" json:"format"` // text or json
	Level  string `mapstructure:"level" json:"level"`   // debug, info, warn, error
}

// Roles a replica can run (see package engine).
const (
	RoleTimers  = engine.RoleTimers
	RoleRules   = engine.RoleRules
	RoleWorkers = engine.RoleWorkers
	RoleAPI     = engine.RoleAPI
)

var allRoles = engine.Roles

// defaultListen is http.listen's default: loopback only.
const defaultListen = "127.0.0.1:9101"

// silentBeats is how many heartbeats a replica may miss in a row before worker.silent_after
// declares it lost: fewer would abandon the executions of a replica that is merely slow.
const silentBeats = 3

// setDefaults gives every key a default, so configuration from the environment alone works.
func setDefaults(v *viper.Viper) {
	v.SetDefault("data_dir", "./.attune")
	v.SetDefault("roles", strings.Join(allRoles, ","))
	v.SetDefault("database.url", "")
	v.SetDefault("database.max_conns", 20)
	v.SetDefault("database.min_conns", 4)
	v.SetDefault("database.auto_migrate", true)
	v.SetDefault("database.plan_cache_mode", "force_generic_plan")
	v.SetDefault("worker.name", "")
	v.SetDefault("worker.concurrency", 10)
	v.SetDefault("worker.noop_concurrency", 100)
	// A kill -9'd worker's executions are abandoned at most silent_after + silent_after/2 (the
	// reap period) after its last heartbeat: 12 s with these.
	v.SetDefault("worker.heartbeat", "2s")
	v.SetDefault("worker.silent_after", "8s")
	v.SetDefault("worker.rescue_after", "0s")
	v.SetDefault("shutdown.grace", "25s")
	v.SetDefault("retention.days", 30)
	v.SetDefault("runtimes.shell", "/bin/sh")
	v.SetDefault("runtimes.python", "python3")
	v.SetDefault("runtimes.output_cap", 1<<20)
	v.SetDefault("runtimes.kill_grace", "5s")
	v.SetDefault("runtimes.work_dir", "")
	v.SetDefault("river.fetch_cooldown", "2ms")
	v.SetDefault("river.fetch_poll_interval", "200ms")
	v.SetDefault("packs.demo", "auto")
	v.SetDefault("packs.dirs", []string{})
	v.SetDefault("packs.config_dir", "")
	v.SetDefault("packs.pip_index_url", "")
	v.SetDefault("log.format", "text")
	v.SetDefault("log.level", "info")
	v.SetDefault("secrets.key", "")
	v.SetDefault("http.listen", defaultListen)
	v.SetDefault("http.max_body", 1<<20)
	v.SetDefault("http.read_header_timeout", "5s")
	v.SetDefault("http.read_timeout", "30s")
	v.SetDefault("http.write_timeout", "60s")
	v.SetDefault("http.idle_timeout", "120s")
	v.SetDefault("metrics.public", false)
	v.SetDefault("workflows.max_task_runs", 10000)
	v.SetDefault("pipeline.batch_size", jobs.DefaultBatchSize)
}

// loadConfig reads the config file (if any), then ATTUNE_* environment variables, then flags
// bound to v. ATTUNE_DATABASE_URL overrides database.url, ATTUNE_DATA_DIR data_dir, and so on.
func loadConfig(v *viper.Viper, file string) (*Config, error) {
	setDefaults(v)
	v.SetEnvPrefix("ATTUNE")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if file == "" {
		if _, err := os.Stat("config.development.yaml"); err == nil && os.Getenv("ATTUNE_CONFIG") == "" {
			file = "config.development.yaml"
		}
		if f := os.Getenv("ATTUNE_CONFIG"); f != "" {
			file = f
		}
	}
	if file != "" {
		v.SetConfigFile(file)
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("read config %s: %w", file, err)
		}
		if err := checkConfigFileKeys(file); err != nil {
			return nil, err
		}
	}
	var c Config
	if err := v.Unmarshal(&c, viper.DecodeHook(configDecodeHook())); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if env := os.Getenv("ATTUNE_PACKS_DIRS"); env != "" { // viper does not split env lists
		c.Packs.Dirs = strings.Split(env, ",")
	}
	packConfig, err := loadPackConfig(v, file)
	if err != nil {
		return nil, err
	}
	c.Packs.Config = packConfig
	// viper's IsSet counts defaults, so ask the two places a value can come from.
	c.HTTP.ListenSet = v.InConfig("http.listen") || os.Getenv("ATTUNE_HTTP_LISTEN") != ""
	if c.Worker.Name == "" {
		host, _ := os.Hostname()
		c.Worker.Name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return &c, nil
}

// Validate reports every field error at once, before anything starts.
func (c *Config) Validate() error {
	var errs []string
	bad := func(field, format string, args ...any) {
		errs = append(errs, field+": "+fmt.Sprintf(format, args...))
	}
	if _, err := c.RoleList(); err != nil {
		bad("roles", "%v", err)
	}
	if c.DataDir == "" && c.Database.URL == "" {
		bad("data_dir", "must be set when database.url is empty (the embedded database lives there)")
	}
	if c.Database.URL != "" {
		if u, err := url.Parse(c.Database.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("database.url", "must be a postgres:// or postgresql:// URL")
		}
	}
	if !slices.Contains([]string{"auto", "force_generic_plan", "force_custom_plan"}, c.Database.PlanCacheMode) {
		bad("database.plan_cache_mode", "must be auto, force_generic_plan or force_custom_plan, got %q", c.Database.PlanCacheMode)
	}
	if c.Database.MaxConns < 2 {
		bad("database.max_conns", "must be at least 2, got %d", c.Database.MaxConns)
	}
	if c.Database.MinConns < 0 || c.Database.MinConns > c.Database.MaxConns {
		bad("database.min_conns", "must be between 0 and database.max_conns (%d), got %d", c.Database.MaxConns, c.Database.MinConns)
	}
	if c.Worker.Concurrency < 1 {
		bad("worker.concurrency", "must be at least 1, got %d", c.Worker.Concurrency)
	}
	if c.Worker.NoopConcurrency < 1 {
		bad("worker.noop_concurrency", "must be at least 1, got %d", c.Worker.NoopConcurrency)
	}
	if c.Worker.Heartbeat <= 0 {
		bad("worker.heartbeat", "must be positive, got %s", c.Worker.Heartbeat)
	}
	if c.Worker.SilentAfter < silentBeats*c.Worker.Heartbeat {
		bad("worker.silent_after", "must be at least %d times worker.heartbeat, got worker.silent_after %s with worker.heartbeat %s; raise worker.silent_after to %s or lower worker.heartbeat",
			silentBeats, c.Worker.SilentAfter, c.Worker.Heartbeat, silentBeats*c.Worker.Heartbeat)
	}
	if c.Worker.RescueAfter < 0 {
		bad("worker.rescue_after", "must not be negative, got %s", c.Worker.RescueAfter)
	}
	if c.Shutdown.Grace < 0 {
		bad("shutdown.grace", "must not be negative, got %s", c.Shutdown.Grace)
	}
	if c.Retention.Days < 1 {
		bad("retention.days", "must be at least 1, got %d", c.Retention.Days)
	}
	if c.Workflows.MaxTaskRuns < 1 {
		bad("workflows.max_task_runs", "must be at least 1, got %d", c.Workflows.MaxTaskRuns)
	}
	if c.Pipeline.BatchSize < 1 {
		bad("pipeline.batch_size", "must be at least 1 (1 turns batching off), got %d", c.Pipeline.BatchSize)
	}
	if c.Runtimes.OutputCap < 1024 {
		bad("runtimes.output_cap", "must be at least 1024 bytes, got %d", c.Runtimes.OutputCap)
	}
	if c.Runtimes.KillGrace <= 0 {
		bad("runtimes.kill_grace", "must be positive, got %s", c.Runtimes.KillGrace)
	}
	if c.River.FetchCooldown <= 0 || c.River.FetchPollInterval <= 0 {
		bad("river", "fetch_cooldown and fetch_poll_interval must be positive")
	}
	if !slices.Contains([]string{"auto", "true", "false"}, c.Packs.Demo) {
		bad("packs.demo", "must be auto, true or false, got %q", c.Packs.Demo)
	}
	for _, ref := range slices.Sorted(maps.Keys(c.Packs.Config)) {
		if !packRefPattern.MatchString(ref) {
			bad("packs.config."+ref, "%q is not a pack ref: lowercase letters, digits, _ and -, starting with a letter", ref)
		}
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	if c.Secrets.Key != "" {
		if _, err := secrets.ParseKey(c.Secrets.Key); err != nil {
			bad("secrets.key", "%v", strings.TrimPrefix(err.Error(), "secrets.key "))
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		bad("http.listen", "must be host:port such as 127.0.0.1:9101 or :9101, got %q", c.HTTP.Listen)
	}
	if c.HTTP.MaxBody < 1024 {
		bad("http.max_body", "must be at least 1024 bytes, got %d", c.HTTP.MaxBody)
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{{"read_header_timeout", c.HTTP.ReadHeaderTimeout}, {"read_timeout", c.HTTP.ReadTimeout},
		{"write_timeout", c.HTTP.WriteTimeout}, {"idle_timeout", c.HTTP.IdleTimeout}} {
		if t.d <= 0 {
			bad("http."+t.key, "must be positive, got %s", t.d)
		}
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration (fix these, then start again):\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// RoleList parses Roles.
func (c *Config) RoleList() ([]string, error) {
	var out []string
	for _, r := range strings.Split(c.Roles, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if r == "all" {
			return allRoles, nil
		}
		if !slices.Contains(allRoles, r) {
			return nil, fmt.Errorf("unknown role %q (known: %s)", r, strings.Join(allRoles, ", "))
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no roles given (known: %s)", strings.Join(allRoles, ", "))
	}
	return out, nil
}

// Masked returns a copy of the configuration with secrets masked, for printing.
func (c Config) Masked() Config {
	if c.Database.URL != "" {
		if u, err := url.Parse(c.Database.URL); err == nil {
			const mask = "MASKED"
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), mask)
			}
			q := u.Query()
			if q.Has("password") {
				q.Set("password", mask)
				u.RawQuery = q.Encode()
			}
			c.Database.URL = strings.ReplaceAll(u.String(), mask, "********")
		}
	}
	if c.Secrets.Key != "" {
		c.Secrets.Key = "********"
	}
	return c
}

// planCacheMode is database.plan_cache_mode for db.Options: empty for auto (the server's own).
func (c *Config) planCacheMode() string {
	if c.Database.PlanCacheMode == "auto" {
		return ""
	}
	return c.Database.PlanCacheMode
}

// rescueAfter is River's rescue window for dispatch jobs: configured, or a little more than the
// default action timeout plus the kill grace.
func (c *Config) rescueAfter() time.Duration {
	if c.Worker.RescueAfter > 0 {
		return c.Worker.RescueAfter
	}
	return engine.DefaultRescueAfter(c.Runtimes.KillGrace)
}
