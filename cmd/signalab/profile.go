package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"

	"github.com/spf13/cobra"
)

// profiledCommands are the subcommands that do heavy work and so take
// --cpuprofile and --memprofile (docs/benchmarks.md, "Profiling").
var profiledCommands = []string{"analyze", "assign", "demo", "generate", "import", "metrics", "replay", "run"}

// addProfiling gives c the --cpuprofile and --memprofile flags when it is
// one of profiledCommands: its work then runs under a CPU profile, and a
// heap profile is written when it ends (both in pprof format; read them
// with go tool pprof).
func addProfiling(c *cobra.Command) {
	if !slices.Contains(profiledCommands, c.Name()) || c.RunE == nil {
		return
	}
	var cpu, mem string
	c.Flags().StringVar(&cpu, "cpuprofile", "", "write a CPU profile of the command (pprof format) to this file")
	c.Flags().StringVar(&mem, "memprofile", "", "write a heap profile (pprof format: allocations over the run, memory in use at the end) to this file")
	run := c.RunE
	c.RunE = func(c *cobra.Command, args []string) (err error) {
		stop, err := startProfiles(cpu, mem)
		if err != nil {
			return err
		}
		defer func() {
			if perr := stop(); err == nil {
				err = perr
			}
		}()
		return run(c, args)
	}
}

// startProfiles starts a CPU profile into cpu (when not empty) and returns
// the function that stops it and writes the heap profile into mem (when not
// empty). Both files are created before any work, so a bad path fails
// early.
func startProfiles(cpu, mem string) (stop func() error, err error) {
	var cpuFile, memFile *os.File
	if cpu != "" {
		if cpuFile, err = os.Create(cpu); err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			cpuFile.Close()
			return nil, fmt.Errorf("--cpuprofile %s: %w", cpu, err)
		}
	}
	if mem != "" {
		if memFile, err = os.Create(mem); err != nil {
			if cpuFile != nil {
				pprof.StopCPUProfile()
				cpuFile.Close()
			}
			return nil, fmt.Errorf("--memprofile: %w", err)
		}
	}
	return func() error {
		var first error
		keep := func(err error) {
			if first == nil && err != nil {
				first = err
			}
		}
		if cpuFile != nil {
			pprof.StopCPUProfile()
			if err := cpuFile.Close(); err != nil {
				keep(fmt.Errorf("--cpuprofile %s: %w", cpu, err))
			}
		}
		if memFile != nil {
			runtime.GC() // the in-use figures as of the end of the run
			if err := pprof.Lookup("allocs").WriteTo(memFile, 0); err != nil {
				keep(fmt.Errorf("--memprofile %s: %w", mem, err))
			}
			if err := memFile.Close(); err != nil {
				keep(fmt.Errorf("--memprofile %s: %w", mem, err))
			}
		}
		return first
	}, nil
}
