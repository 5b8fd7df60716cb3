//go:build faultinject

package fault

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
)

const enabled = true

var (
	mu     sync.Mutex
	passed int
	killAt = func() int { n, _ := strconv.Atoi(os.Getenv("SIGNALAB_FAULT_KILL_AT")); return n }()
	logTo  = os.Getenv("SIGNALAB_FAULT_LOG")
)

// Point counts the point, logs its name and kills the process when it is
// the one SIGNALAB_FAULT_KILL_AT names.
func Point(name string) {
	mu.Lock()
	defer mu.Unlock()
	passed++
	if logTo != "" {
		if f, err := os.OpenFile(logTo, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintf(f, "%d %s\n", passed, name)
			f.Sync()
			f.Close()
		}
	}
	if passed == killAt {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
