package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/live"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/embedded"
	"github.com/signalab/signalab/synth"
)

// The subfolders of live demo's --out: the live dump and the replay it is
// compared with.
const (
	liveDemoLive   = "live"
	liveDemoReplay = "replay"
)

type liveDemoOptions struct {
	Events     []string
	Out        string
	Partitions int
	Consumers  int
	Experiment string
	Sessions   bool
}

func newLiveDemoCmd() *cobra.Command {
	var opts liveDemoOptions
	c := &cobra.Command{
		Use:   "demo [--events PATH...] [--out DIR] [--partitions N] [--consumers N] [--experiment F] [--sessions]",
		Short: "The whole live loop in one process: cluster, produce, live, dump, diff against replay",
		Long: `demo starts an in-process Kafka-protocol cluster (see "live cluster"),
writes an event log to its "events" topic in arrival order ("live produce"),
runs --consumers live consumers in one group on it ("signalab live"), dumps
their output topics when they have processed everything ("live dump" into
OUT/live), replays the same log in arrival order ("signalab replay" into
OUT/replay) and compares the two ("signalab diff"): exit 0 when they are
equal, 1 when they differ. With --sessions (or an --experiment whose
analysis.unit is buyer or session) the consumers track sessions, the replay
writes sessions.parquet, and the diff compares them too.

Without --events it first generates a realistic log of about 119,000 events
(with duplicates, out-of-order and late rows) into OUT/generated.`,
		Example: `  signalab live demo --out out/live-demo
  signalab live demo --events testdata/events/events.parquet --out out/live-demo --consumers 3`,
		Args: noArgs("signalab live demo --out out/live-demo", "live demo"),
		RunE: untilSignal(func(ctx context.Context, c *cobra.Command, args []string) error {
			return liveDemoRun(ctx, opts, c.OutOrStdout(), c.ErrOrStderr())
		}),
	}
	f := c.Flags()
	f.StringSliceVar(&opts.Events, "events", nil, "event log files, folders or globs (default: generate one)")
	f.StringVar(&opts.Out, "out", "live-demo", "output folder (OUT/live, OUT/replay)")
	f.IntVar(&opts.Partitions, "partitions", 4, "partitions of the events topic")
	f.IntVar(&opts.Consumers, "consumers", 2, "live consumers in the group")
	f.StringVar(&opts.Experiment, "experiment", "", "experiment.yaml whose signals: block sets the signal parameters (analysis.unit buyer or session also turns --sessions on)")
	f.BoolVar(&opts.Sessions, "sessions", false, "track every buyer's sessions in live mode and in the replay, and compare them")
	return c
}

func liveDemoRun(ctx context.Context, opts liveDemoOptions, stdout, stderr io.Writer) error {
	const hint = "signalab live demo --out out/live-demo"
	switch {
	case opts.Out == "":
		return exitcode.Usagef(hint, "live demo: --out is empty")
	case opts.Partitions <= 0 || opts.Consumers <= 0:
		return exitcode.Usagef(hint+" --partitions 4 --consumers 2", "live demo: --partitions %d, --consumers %d: want positive numbers", opts.Partitions, opts.Consumers)
	}
	params, gap, err := liveParams(opts.Experiment, opts.Sessions)
	if err != nil {
		return fmt.Errorf("live demo: %w", err)
	}
	start := time.Now()
	step := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%6.2fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	// OUT/live, OUT/replay and (when generated) OUT/generated are one
	// output set: replaced together, under OUT's lock, or not at all.
	owned := []string{liveDemoLive, liveDemoReplay}
	events := opts.Events
	if len(events) == 0 {
		owned = append(owned, demoGenerated)
	}
	tx, err := beginOutputs(opts.Out, "signalab live demo", owned)
	if err != nil {
		return err
	}
	defer tx.Abort()
	if len(events) == 0 {
		dir := filepath.Join(tx.Dir, demoGenerated)
		truth, err := synth.WriteDir(ctx, synth.DefaultConfig(), dir, nil)
		if err != nil {
			return fmt.Errorf("live demo: generate: %w", err)
		}
		events = []string{filepath.Join(dir, synth.EventsFile)}
		step("generated %d events into %s", truth.Counts.Rows, tx.Final(events[0]))
	}

	cluster, err := live.StartCluster(live.ClusterConfig{Partitions: opts.Partitions})
	if err != nil {
		return err
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	step("in-process cluster listening on %s", strings.Join(brokers, ","))

	topics := live.TopicsFor("events", "signals", "signalab-demo")
	evs, r, err := event.ReadAll(events, event.ReadOptions{})
	if err != nil {
		return err
	}
	live.ArrivalOrder(evs)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := live.EnsureTopics(ctx, cl, -1, live.TopicSpec{Name: topics.Input, Partitions: int32(opts.Partitions)}); err != nil {
		return err
	}
	st, err := live.Produce(ctx, cl, topics.Input, evs, r.Quarantined())
	if err != nil {
		return err
	}
	step("produced %d events and %d bad rows to topic %s (%d partitions), in arrival order", st.Events, st.Quarantined, topics.Input, opts.Partitions)

	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make([]error, opts.Consumers)
	for i := range opts.Consumers {
		p, err := live.New(live.Config{Brokers: brokers, Group: "signalab-demo", Instance: "live-" + strconv.Itoa(i+1),
			Topics: topics, Params: params, Sessions: gap, CreateTopics: true, CommitInterval: live.DefaultCommitInterval})
		if err != nil {
			cancel()
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.Run(cctx)
		}()
	}
	step("started %d live consumers in group signalab-demo", opts.Consumers)
	d, derr := live.Dump(ctx, []kgo.Opt{kgo.SeedBrokers(brokers...)}, topics.Signals, 10*time.Minute)
	cancel()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("live demo: consumer: %w", err)
		}
	}
	if derr != nil {
		return derr
	}
	if err := live.WriteDump(filepath.Join(tx.Dir, liveDemoLive), d); err != nil {
		return err
	}
	liveDir := filepath.Join(opts.Out, liveDemoLive)
	sessions := ""
	if d.Outputs.WithSessions {
		sessions = fmt.Sprintf(", %d sessions (%d final, %d open)", len(d.Outputs.Sessions), d.Info.FinalSessions, d.Info.OpenSessions)
	}
	step("live dump into %s: %d signals, %d conversations (%d final, %d open), %d orders%s",
		liveDir, len(d.Outputs.Signals), len(d.Outputs.Conversations), d.Info.FinalConversations, d.Info.OpenConversations, len(d.Outputs.Orders), sessions)

	_, err = embedded.Run(embedded.Config{Events: events, Out: filepath.Join(tx.Dir, liveDemoReplay), Params: params, Sessions: gap,
		Order: replay.OrderArrival, InputName: tx.Final})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	replayDir := filepath.Join(opts.Out, liveDemoReplay)
	flag := ""
	if gap > 0 {
		flag = " --sessions"
	}
	step("replay --order arrival%s into %s", flag, replayDir)
	return diffRun(diffOptions{A: replayDir, B: liveDir}, stdout, stderr)
}
