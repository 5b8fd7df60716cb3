package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/live"
)

type liveClusterOptions struct {
	Listen     string
	Partitions int
}

func newLiveClusterCmd() *cobra.Command {
	var opts liveClusterOptions
	c := &cobra.Command{
		Use:   "cluster [--listen HOST:PORT] [--partitions N]",
		Short: "Run an in-process Kafka-protocol cluster (for trying live mode)",
		Long: `cluster runs a one-broker cluster in this process (franz-go's kfake: the real
Kafka protocol over TCP, with consumer groups, transactions and
read_committed; in memory, no compaction) until SIGTERM or SIGINT. It prints
its address on standard output. Point "signalab live", "live produce" and
"live dump" at it with --brokers. For trying things out, not for production.`,
		Example: `  signalab live cluster --listen 127.0.0.1:9092 &
  signalab live produce --events testdata/events/events.parquet --topic events
  signalab live --instance live-1 --http 127.0.0.1:8080 &
  signalab live dump --topic signals --out out/live --wait 1m`,
		Args: noArgs("signalab live cluster --listen 127.0.0.1:9092", "live cluster"),
		RunE: untilSignal(func(ctx context.Context, c *cobra.Command, args []string) error {
			return liveClusterRun(ctx, opts, c.OutOrStdout(), c.ErrOrStderr())
		}),
	}
	f := c.Flags()
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:9092", "address of the broker")
	f.IntVar(&opts.Partitions, "partitions", 4, "partitions of topics created without a count")
	return c
}

func liveClusterRun(ctx context.Context, opts liveClusterOptions, stdout, stderr io.Writer) error {
	if opts.Partitions <= 0 {
		return exitcode.Usagef("signalab live cluster --partitions 4", "live cluster: --partitions %d: want a positive number", opts.Partitions)
	}
	c, err := live.StartCluster(live.ClusterConfig{Listen: opts.Listen, Partitions: opts.Partitions})
	if err != nil {
		return exitcode.Usagef("signalab live cluster --listen 127.0.0.1:19092", "live %v", err)
	}
	defer c.Close()
	fmt.Fprintln(stdout, strings.Join(c.ListenAddrs(), ","))
	fmt.Fprintln(stderr, "live cluster: running; stop with Ctrl-C or SIGTERM")
	<-ctx.Done()
	return nil
}
