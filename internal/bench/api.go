package bench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/httpapi"
)

// webhookClients is how many clients post at once in the webhook and HTTP baseline runs.
const webhookClients = 20

// Roles of the replica of the API phases: `attune start` without timers, serving the API.
var apiRoles = []string{"rules", "workers", "api"}

// Roles of the replica that only acknowledges webhooks: River must run a queue, and the timers
// queue has nothing to do in the bench's databases.
var ackRoles = []string{"timers", "api"}

// httpRun is the outcome of posting n requests from webhookClients clients.
type httpRun struct {
	PerS    float64     // answered requests per second, first request sent to last answer
	Ack     Percentiles // request sent -> answer read, ms
	N       int
	Elapsed time.Duration
}

// webhookResult is the outcome of the webhook phase.
type webhookResult struct {
	Baseline, Webhook httpRun
	// Alone is the webhook run on a replica that serves the API and processes no events
	// (roles timers and api): the acknowledgement alone, nothing contending with it.
	Alone httpRun
	// Drained is from the first webhook request until every execution its events caused was
	// terminal (the rule on core.webhook running core.noop).
	Drained time.Duration
}

// apiRunResult is the outcome of the api_run phase.
type apiRunResult struct {
	Terminal Percentiles // POST sent -> terminal status heard, ms
	Created  Percentiles // POST sent -> 201 read, ms
}

// poster posts signed webhook deliveries: GitHub's X-Hub-Signature-256 over the raw body, and a
// distinct X-GitHub-Delivery per request (attune dedupes on it).
type poster struct {
	client *http.Client
	secret []byte
	run    string // makes delivery ids distinct across runs on one database
}

func newPoster(secret []byte, run string) *poster {
	return &poster{secret: secret, run: run, client: &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			Proxy:               nil, // loopback only, whatever the environment says
			MaxIdleConns:        webhookClients * 2,
			MaxIdleConnsPerHost: webhookClients * 2,
			IdleConnTimeout:     time.Minute,
		},
	}}
}

// post sends delivery i to url and returns the answer's status once its body is read.
func (p *poster) post(ctx context.Context, url string, i int) (int, []byte, error) {
	body := fmt.Appendf(nil, `{"ref":"refs/heads/main","after":"%040d","n":%d}`, i, i)
	mac := hmac.New(sha256.New, p.secret)
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", p.run+"-"+strconv.Itoa(i))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// hammer posts deliveries [from, from+n) to url from webhookClients clients at once, each
// answered 202, and returns the rate and the latency of the answers.
func (p *poster) hammer(ctx context.Context, url string, from, n int) (httpRun, error) {
	lat := make([]float64, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range webhookClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				code, body, err := p.post(ctx, url, from+i)
				if err == nil && code != http.StatusAccepted {
					err = fmt.Errorf("answered %d, want 202: %.300s", code, body)
				}
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("POST %s (delivery %d): %w", url, from+i, err) })
					next.Store(int64(n)) // stop the others
					return
				}
				lat[i] = float64(time.Since(t).Microseconds()) / 1000
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return httpRun{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return httpRun{}, err
	}
	return httpRun{PerS: Rate(n, elapsed), Ack: Summarise(lat), N: n, Elapsed: elapsed}, nil
}

// baselineServer is the raw floor of the webhook figure: net/http on loopback answering 202 with
// a small JSON body once it has read the request's, and nothing else.
func baselineServer() (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("http baseline: %w", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"event_id":1}` + "\n"))
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/api/v1/webhooks/" + benchWebhook, func() { _ = srv.Close() }, nil
}

// webhookSecret is a fresh random secret for the bench webhook.
func webhookSecret() ([]byte, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	return secret, nil
}

// httpBaseline posts n signed deliveries to a bare net/http handler answering 202, from the
// same client loop as the webhook runs.
func httpBaseline(ctx context.Context, n int) (httpRun, error) {
	secret, err := webhookSecret()
	if err != nil {
		return httpRun{}, err
	}
	p := newPoster(secret, "baseline")
	defer p.client.CloseIdleConnections()
	base, stop, err := baselineServer()
	if err != nil {
		return httpRun{}, err
	}
	defer stop()
	if _, err := p.hammer(ctx, base, 0, warmRequests); err != nil {
		return httpRun{}, fmt.Errorf("http baseline: %w", err)
	}
	run, err := p.hammer(ctx, base, warmRequests, n)
	if err != nil {
		return httpRun{}, fmt.Errorf("http baseline: %w", err)
	}
	return run, nil
}

// warmRequests open the clients' connections before a measured run; they are not measured.
const warmRequests = webhookClients * 2

// webhookRate measures signed webhook deliveries acknowledged per second by a replica of roles
// serving the API. With drain, it then waits for every execution the deliveries caused and
// returns how long after the first request the last one was terminal.
func webhookRate(ctx context.Context, start StartFunc, url string, roles []string, n int, drain bool) (httpRun, time.Duration, error) {
	secret, err := webhookSecret()
	if err != nil {
		return httpRun{}, 0, err
	}
	p := newPoster(secret, "bench")
	defer p.client.CloseIdleConnections()
	r, err := start(ctx, url, roles)
	if err != nil {
		return httpRun{}, 0, err
	}
	defer r.Stop()
	if r.P.Secrets == nil {
		return httpRun{}, 0, errors.New("the api replica has no secrets key for the webhook's secret")
	}
	if _, err := r.DB.AutoCommit().WebhookUpsert(ctx, db.Webhook{
		Name: benchWebhook, Verify: httpapi.VerifyGitHub, Secret: r.P.Secrets.Seal(secret), Encoding: "hex",
	}); err != nil {
		return httpRun{}, 0, fmt.Errorf("set webhook %s: %w", benchWebhook, err)
	}
	if err := r.Start(ctx); err != nil {
		return httpRun{}, 0, err
	}
	hook := "http://" + r.APIAddr + "/api/v1/webhooks/" + benchWebhook
	t0 := time.Now()
	if _, err := p.hammer(ctx, hook, 0, warmRequests); err != nil {
		return httpRun{}, 0, err
	}
	run, err := p.hammer(ctx, hook, warmRequests, n)
	if err != nil || !drain {
		return run, 0, err
	}
	if err := waitTerminal(ctx, r.DB, warmRequests+n, drainTimeout(n)); err != nil {
		return run, 0, fmt.Errorf("executions of the webhook events: %w", err)
	}
	return run, time.Since(t0), nil
}

// apiRun measures POST /api/v1/executions of core.noop until the execution is terminal, n times
// one after the other. The terminal status is heard as a client watching would hear it: LISTEN
// attune_execution on the bench's own connection (each status transition NOTIFYs in its
// transaction), not by polling.
func apiRun(ctx context.Context, start StartFunc, url string, n int) (apiRunResult, error) {
	var res apiRunResult
	r, err := start(ctx, url, apiRoles)
	if err != nil {
		return res, err
	}
	defer r.Stop()
	key, hash := httpapi.NewKey()
	if _, err := r.DB.AutoCommit().APIKeyInsert(ctx, "bench", hash); err != nil {
		return res, fmt.Errorf("create the bench's api key: %w", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return res, fmt.Errorf("listen for executions: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN attune_execution"); err != nil {
		return res, fmt.Errorf("listen for executions: %w", err)
	}
	terminal := make(chan int64, 1024)
	lctx, stopListening := context.WithCancel(ctx)
	var listenErr error
	listenDone := make(chan struct{})
	go func() {
		defer close(listenDone)
		listenErr = hearTerminal(lctx, conn, terminal)
	}()
	defer func() {
		stopListening()
		<-listenDone
	}()
	if err := r.Start(ctx); err != nil {
		return res, err
	}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	endpoint := "http://" + r.APIAddr + "/api/v1/executions"
	body := []byte(`{"action":"` + actionNoop + `","parameters":{"message":"bench"}}`)
	run := func() (created, done time.Duration, err error) {
		t := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, 0, err
		}
		if resp.StatusCode != http.StatusCreated {
			return 0, 0, fmt.Errorf("POST %s answered %d, want 201: %.300s", endpoint, resp.StatusCode, b)
		}
		created = time.Since(t)
		var x struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(b, &x); err != nil || x.ID == 0 {
			return 0, 0, fmt.Errorf("POST %s: no execution id in %.300s", endpoint, b)
		}
		wait := time.NewTimer(30 * time.Second)
		defer wait.Stop()
		for {
			select {
			case id := <-terminal:
				if id == x.ID {
					return created, time.Since(t), nil
				}
			case <-listenDone:
				return 0, 0, fmt.Errorf("listen for executions: %w", listenErr)
			case <-wait.C:
				return 0, 0, fmt.Errorf("execution %d: no terminal status heard within 30 s", x.ID)
			case <-ctx.Done():
				return 0, 0, ctx.Err()
			}
		}
	}
	const warm = 10 // opens the connection and warms the plans; not measured
	for range warm {
		if _, _, err := run(); err != nil {
			return res, err
		}
	}
	created, done := make([]float64, n), make([]float64, n)
	for i := range n {
		c, d, err := run()
		if err != nil {
			return res, err
		}
		created[i], done[i] = ms(c), ms(d)
	}
	res.Created, res.Terminal = Summarise(created), Summarise(done)
	return res, nil
}

// hearTerminal sends the id of every execution whose terminal status is notified on conn to
// ids until ctx ends.
func hearTerminal(ctx context.Context, conn *pgx.Conn, ids chan<- int64) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var m struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(n.Payload), &m); err != nil {
			return fmt.Errorf("notification %q: %w", n.Payload, err)
		}
		if attune.ExecutionStatus(m.Status).Terminal() {
			select {
			case ids <- m.ID:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
