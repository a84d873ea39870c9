package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/attune-run/attune/db"
)

// metricsRefresh is how long the database gauges are cached: a scrape refreshes them when they
// are older, so there is at most one round of queries per period, not one per scrape.
const metricsRefresh = 15 * time.Second

// metrics holds the Prometheus registry of one server. Labels never carry ids.
type metrics struct {
	db            *db.DB
	log           *slog.Logger
	reg           *prometheus.Registry
	httpRequests  *prometheus.CounterVec
	webhookReqs   *prometheus.CounterVec
	events        *prometheus.CounterVec
	execTotal     *prometheus.CounterVec
	execDuration  *prometheus.HistogramVec
	execWait      *prometheus.HistogramVec
	timerLateness prometheus.Histogram
	executions    *prometheus.GaugeVec
	queueJobs     *prometheus.GaugeVec
	queueOldest   *prometheus.GaugeVec
	handler       http.Handler
	lastRefreshOK prometheus.Gauge

	mu          sync.Mutex // serialises refreshes
	every       time.Duration
	refreshedAt time.Time
	since       time.Time // database time up to which finished executions and events are counted
}

// commitLag is how far behind the database's clock the counters read, so a row committed a
// little after its timestamp is still counted once.
const commitLag = time.Second

func newMetrics(d *db.DB, log *slog.Logger, every time.Duration) *metrics {
	if every <= 0 {
		every = metricsRefresh
	}
	m := &metrics{db: d, log: log, reg: prometheus.NewRegistry(), every: every}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "attune_http_requests_total", Help: "HTTP requests served by this replica, by route pattern and status code.",
	}, []string{"route", "code"})
	m.webhookReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "attune_webhook_requests_total", Help: "Webhook requests served by this replica, by webhook name and status code.",
	}, []string{"webhook", "code"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "attune_events_total", Help: "Events recorded by every replica since this one started counting, by trigger and source (timer, webhook, emit); read from the database.",
	}, []string{"trigger", "source"})
	m.execTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "attune_executions_total", Help: "Executions that finished, by action and terminal status (every replica's; read from the database).",
	}, []string{"action", "status"})
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}
	m.execDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "attune_execution_duration_seconds", Help: "Run time of finished executions (running to terminal), by action.", Buckets: buckets,
	}, []string{"action"})
	m.execWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "attune_execution_queue_wait_seconds", Help: "Time from scheduled to running of finished executions, by action.", Buckets: buckets,
	}, []string{"action"})
	m.timerLateness = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "attune_timer_fire_lateness_seconds", Help: "How late timer events fired after their scheduled time.", Buckets: buckets,
	})
	m.executions = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "attune_executions", Help: "Executions in the database by status (refreshed every 15 s).",
	}, []string{"status"})
	m.queueJobs = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "attune_queue_jobs", Help: "River jobs by queue and state (refreshed every 15 s).",
	}, []string{"queue", "state"})
	m.queueOldest = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "attune_queue_oldest_age_seconds", Help: "Age of the oldest available job of each queue (refreshed every 15 s).",
	}, []string{"queue"})
	m.lastRefreshOK = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "attune_metrics_refresh_success", Help: "1 when the last refresh of the database gauges succeeded.",
	})
	m.reg.MustRegister(m.httpRequests, m.webhookReqs, m.events, m.execTotal, m.execDuration, m.execWait, m.timerLateness, m.executions, m.queueJobs, m.queueOldest, m.lastRefreshOK,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// serve refreshes the database gauges when they are older than metricsRefresh, then writes
// every metric.
func (m *metrics) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	if time.Since(m.refreshedAt) >= m.every {
		if err := m.refresh(r.Context()); err != nil {
			m.log.Warn("refreshing metrics failed", "error", err)
		}
		m.refreshedAt = time.Now() // also after a failure: do not hammer a struggling database
	}
	m.mu.Unlock()
	m.handler.ServeHTTP(w, r)
}

func (m *metrics) request(route string, code int) {
	if code == 0 {
		code = http.StatusOK
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
}

func (m *metrics) webhook(name string, code int) {
	m.webhookReqs.WithLabelValues(name, strconv.Itoa(code)).Inc()
}

// refresh reads executions by status and River jobs by queue and state.
func (m *metrics) refresh(ctx context.Context) error {
	m.lastRefreshOK.Set(0)
	q := m.db.AutoCommit()
	counts, err := q.ExecutionCounts(ctx)
	if err != nil {
		return err
	}
	jobs, err := q.MetricsQueueJobs(ctx)
	if err != nil {
		return err
	}
	m.executions.Reset()
	for status, n := range counts {
		m.executions.WithLabelValues(string(status)).Set(float64(n))
	}
	m.queueJobs.Reset()
	m.queueOldest.Reset()
	for _, j := range jobs {
		m.queueJobs.WithLabelValues(j.Queue, j.State).Set(float64(j.Count))
		if j.State == "available" {
			m.queueOldest.WithLabelValues(j.Queue).Set(max(0, j.Oldest.Seconds()))
		}
	}
	if err := m.count(ctx, q); err != nil {
		return err
	}
	m.lastRefreshOK.Set(1)
	return nil
}

// count adds the executions that finished and the events recorded since the last refresh to
// the counters and histograms. The first refresh only sets the starting point.
func (m *metrics) count(ctx context.Context, q *db.Queries) error {
	now, err := q.Now(ctx)
	if err != nil {
		return err
	}
	upto := now.Add(-commitLag)
	if m.since.IsZero() {
		m.since = upto
		return nil
	}
	xs, err := q.ExecutionsFinished(ctx, m.since, upto)
	if err != nil {
		return err
	}
	evs, err := q.EventsCreated(ctx, m.since, upto)
	if err != nil {
		return err
	}
	for _, x := range xs {
		m.execTotal.WithLabelValues(x.ActionRef, x.Status).Inc()
		if x.StartedAt != nil {
			m.execDuration.WithLabelValues(x.ActionRef).Observe(x.FinishedAt.Sub(*x.StartedAt).Seconds())
			if x.ScheduledAt != nil {
				m.execWait.WithLabelValues(x.ActionRef).Observe(x.StartedAt.Sub(*x.ScheduledAt).Seconds())
			}
		}
	}
	for _, e := range evs {
		m.events.WithLabelValues(e.TriggerRef, e.Source).Inc()
		if e.Source == "timer" {
			m.timerLateness.Observe(e.Lateness.Seconds())
		}
	}
	m.since = upto
	return nil
}
