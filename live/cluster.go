package live

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// ClusterConfig configures an in-process cluster.
type ClusterConfig struct {
	// Listen is host:port of the (single) broker; "" picks a free port on
	// 127.0.0.1.
	Listen string
	// Partitions is the partition count of topics created without one.
	Partitions int
	// MinSessionTimeout is the group session timeout the cluster accepts
	// at least (kfake's default is 6 s); tests lower it so a killed member
	// leaves the group quickly.
	MinSessionTimeout time.Duration
}

// StartCluster starts an in-process Kafka-protocol cluster: franz-go's
// kfake, which speaks the real protocol (groups, transactions,
// read_committed) over TCP, so live mode's clients run unchanged against it.
// It keeps everything in memory and does not compact topics (a dump takes
// the last record of each key anyway). Close it when done.
func StartCluster(cfg ClusterConfig) (*kfake.Cluster, error) {
	opts := []kfake.Opt{kfake.NumBrokers(1)}
	if cfg.Partitions > 0 {
		opts = append(opts, kfake.DefaultNumPartitions(cfg.Partitions))
	}
	if cfg.MinSessionTimeout > 0 {
		opts = append(opts, kfake.GroupMinSessionTimeout(cfg.MinSessionTimeout))
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("cluster: --listen %q: %w (want host:port, such as 127.0.0.1:9092)", cfg.Listen, err)
		}
		n, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("cluster: --listen %q: port %q is not a number", cfg.Listen, port)
		}
		opts = append(opts, kfake.Ports(n), kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, port))
		}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return c, nil
}
