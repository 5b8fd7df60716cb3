package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/live"
	sig "github.com/signalab/signalab/signal"
)

func init() { register(newLiveCmd) }

// connFlags are the flags that reach a cluster, shared by the live commands.
type connFlags struct {
	Brokers       []string
	TLS           bool
	TLSCA         string
	TLSCert       string
	TLSKey        string
	TLSServerName string
	SASL          string
	User          string
}

func addConnFlags(f *pflag.FlagSet, c *connFlags) {
	f.StringSliceVar(&c.Brokers, "brokers", []string{"127.0.0.1:9092"}, "seed brokers host:port (comma-separated)")
	f.BoolVar(&c.TLS, "tls", false, "connect with TLS (the system's roots verify the brokers unless --tls-ca)")
	f.StringVar(&c.TLSCA, "tls-ca", "", "PEM file of CA certificates that verify the brokers (implies --tls)")
	f.StringVar(&c.TLSCert, "tls-cert", "", "PEM client certificate for mutual TLS (with --tls-key)")
	f.StringVar(&c.TLSKey, "tls-key", "", "PEM key of --tls-cert")
	f.StringVar(&c.TLSServerName, "tls-server-name", "", "name to check in the brokers' certificates (default: the broker host)")
	f.StringVar(&c.SASL, "sasl", "", "SASL mechanism: plain, scram-sha-256 or scram-sha-512 (password from $SIGNALAB_SASL_PASSWORD)")
	f.StringVar(&c.User, "sasl-user", "", "SASL user name")
}

// conn returns the live.Conn of the flags, the password from the environment.
func (c connFlags) conn() live.Conn {
	return live.Conn{Brokers: c.Brokers, TLS: c.TLS, TLSCA: c.TLSCA, TLSCert: c.TLSCert, TLSKey: c.TLSKey,
		TLSServerName: c.TLSServerName, SASL: c.SASL, User: c.User, Password: os.Getenv("SIGNALAB_SASL_PASSWORD")}
}

// defaultForgetAfter bounds a long-running consumer's memory: a settled
// buyer's state (its clock and duplicate memory, about 1 KB) is dropped 30 days
// of event time after its rows became final. Rows are unaffected; see
// docs/live.md for the two counts that can then differ from a replay.
const defaultForgetAfter = 720 * time.Hour

type liveOptions struct {
	Conn              connFlags
	Group             string
	Instance          string
	Input             string
	Output            string
	Experiment        string
	Sessions          bool
	HTTP              string
	ForgetAfter       time.Duration
	IngestFromRecord  bool
	CreateTopics      bool
	ReplicationFactor int16
	MaxPollRecords    int
	CommitInterval    time.Duration
}

func newLiveCmd() *cobra.Command {
	var opts liveOptions
	host, _ := os.Hostname()
	c := &cobra.Command{
		Use:   "live [--brokers HOST:PORT] [--group G] [--instance ID] [--input T] [--output T] [--experiment F] [--http ADDR]",
		Short: "Run the signal logic on a Kafka stream (exactly once, state in a changelog)",
		Long: `live consumes v1 events (JSON, one per record, keyed shop_id/buyer_id) from
--input in consumer group --group, runs each buyer's events through the same
signal logic as "signalab replay" in arrival order, and writes in Kafka
transactions, together with the input offsets:

  OUTPUT                signal rows (JSON), keyed shop_id/buyer_id
  OUTPUT.conversations  conversation rows, upserted until final (compacted)
  OUTPUT.orders         de-duplicated orders
  OUTPUT.quarantine     records that broke the schema, with the reason
  OUTPUT.counts         per input partition, the counts of replay.json (compacted)
  GROUP-state-changelog each buyer's state (compacted), restored on assignment

Read with read_committed, the outputs hold every signal exactly once, and
"signalab live dump" turns them into the replay's outputs: for the same
records they equal "signalab replay --order arrival" (signalab diff exits 0).

--http serves GET /v1/shops/{shop}/buyers/{buyer}/signals (a buyer's current
signals), /healthz, /readyz and /metrics (Prometheus). SIGTERM or SIGINT
commits the transaction under way, leaves the group and exits 0.

Run several processes with the same --group and distinct --instance to share
the input's partitions (see docs/live.md). To try it without a cluster:
"signalab live demo".`,
		Example: `  signalab live --brokers kafka-1:9092,kafka-2:9092 --group signalab --instance "$HOSTNAME" --input events --output signals
  SIGNALAB_SASL_PASSWORD=... signalab live --brokers b:9096 --tls --sasl scram-sha-512 --sasl-user signalab --experiment experiment.yaml`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return exitcode.Usagef("signalab live --help", "live: unknown command or argument %q (subcommands: produce, dump, cluster, demo)", args[0])
			}
			return nil
		},
		RunE: untilSignal(func(ctx context.Context, c *cobra.Command, args []string) error {
			return liveRun(ctx, opts, c.ErrOrStderr())
		}),
	}
	f := c.Flags()
	addConnFlags(f, &opts.Conn)
	f.StringVar(&opts.Group, "group", "signalab-live", "consumer group (and the changelog's name: GROUP-state-changelog)")
	f.StringVar(&opts.Instance, "instance", host, "this process's name in the group, unique and stable across restarts (with --group, its transactional id)")
	f.StringVar(&opts.Input, "input", "events", "input topic of v1 events")
	f.StringVar(&opts.Output, "output", "signals", "signals topic; the other outputs are OUTPUT.conversations, .orders, .quarantine, .counts")
	f.StringVar(&opts.Experiment, "experiment", "", "experiment.yaml whose signals: block sets the signal parameters (analysis.unit buyer or session also turns --sessions on)")
	f.BoolVar(&opts.Sessions, "sessions", false, "also track every buyer's sessions into OUTPUT.sessions (as replay --sessions writes sessions.parquet)")
	f.StringVar(&opts.HTTP, "http", ":8080", `address of the HTTP endpoint (signals, health, metrics); "" for none`)
	f.DurationVar(&opts.ForgetAfter, "forget-after", defaultForgetAfter, "drop a settled buyer's state this long (event time) after its rows became final, so memory stays bounded; 0 keeps every settled state (counts exactly equal to replay's, memory grows with buyers seen; see docs/live.md)")
	f.BoolVar(&opts.IngestFromRecord, "ingest-time-from-record", false, "give events without ingest_time their record's timestamp as ingest_time")
	f.BoolVar(&opts.CreateTopics, "create-topics", true, "create missing output topics and the changelog, with the input's partition count")
	f.Int16Var(&opts.ReplicationFactor, "replication-factor", -1, "replication factor of created topics (-1: the brokers' default)")
	f.IntVar(&opts.MaxPollRecords, "max-poll-records", 10000, "most input records per transaction")
	f.DurationVar(&opts.CommitInterval, "commit-interval", live.DefaultCommitInterval, "how long a transaction takes records after its first before it commits (latency against per-transaction cost)")
	c.AddCommand(newLiveProduceCmd(), newLiveDumpCmd(), newLiveClusterCmd(), newLiveDemoCmd())
	return c
}

// liveParams returns the signal parameters of --experiment (defaults
// otherwise), validated as every engine validates them, and the session
// gap (0: no sessions; see experiment.Replay).
func liveParams(path string, sessions bool) (sig.Params, time.Duration, error) {
	return experiment.Replay(path, sessions)
}

func liveRun(ctx context.Context, opts liveOptions, stderr io.Writer) error {
	const hint = "signalab live --brokers 127.0.0.1:9092 --input events --output signals"
	switch {
	case opts.Instance == "":
		return exitcode.Usagef(hint+" --instance live-1", "live: --instance is empty: give each process a unique, stable name")
	case opts.MaxPollRecords <= 0:
		return exitcode.Usagef(hint+" --max-poll-records 10000", "live: --max-poll-records %d: want a positive number", opts.MaxPollRecords)
	case opts.CommitInterval < 0:
		return exitcode.Usagef(hint+" --commit-interval 10ms", "live: --commit-interval %s: want a duration ≥ 0", opts.CommitInterval)
	case opts.ForgetAfter < 0:
		return exitcode.Usagef(hint+" --forget-after 720h", "live: --forget-after %s: want a duration ≥ 0", opts.ForgetAfter)
	}
	params, gap, err := liveParams(opts.Experiment, opts.Sessions)
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	conn := opts.Conn.conn()
	copts, err := conn.Options()
	if err != nil {
		return exitcode.Usagef(hint, "live: %v", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	log := slog.New(slog.NewTextHandler(stderr, nil))
	p, err := live.New(live.Config{Brokers: conn.Brokers, Group: opts.Group, Instance: opts.Instance,
		Topics: live.TopicsFor(opts.Input, opts.Output, opts.Group), Params: params, Sessions: gap, ForgetAfter: opts.ForgetAfter,
		IngestTimeFromRecord: opts.IngestFromRecord,
		MaxPollRecords:       opts.MaxPollRecords, CreateTopics: opts.CreateTopics, ReplicationFactor: opts.ReplicationFactor,
		ClientOptions: copts, Metrics: live.NewMetrics(reg), Logger: log})
	if err != nil {
		return exitcode.Usagef(hint, "%v", err)
	}
	return runWithHTTP(ctx, opts.HTTP, live.Handler(p, reg), log, p.Run)
}

// runWithHTTP serves h on addr (unless empty) while run runs, and shuts
// the server down when run returns.
func runWithHTTP(ctx context.Context, addr string, h http.Handler, log *slog.Logger, run func(context.Context) error) error {
	if addr == "" {
		return run(ctx)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return exitcode.Usagef("signalab live --http 127.0.0.1:8081", "live: --http %s: %v (is the port taken?)", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info("live: HTTP endpoint", "addr", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("live: HTTP server", "err", err)
		}
	}()
	err = run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return err
}

// untilSignal is the RunE of a command that runs until it is done or until
// SIGTERM or SIGINT (Ctrl-C) cancels ctx.
func untilSignal(run func(ctx context.Context, c *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		return run(ctx, c, args)
	}
}

// noArgs refuses positional arguments with a usage error: "command:
// unexpected argument" and the hint.
func noArgs(hint, command string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return exitcode.Usagef(hint, "%s: unexpected argument %q", command, args[0])
		}
		return nil
	}
}
