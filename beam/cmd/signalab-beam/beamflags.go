package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"
)

// Beam's SDK registers its options (--endpoint, --project, --region,
// --temp_location, --worker_binary, ...) on Go's global flag set, and its
// runners read them from there, some through flag.Visit, which sees only
// flags that were set with flag.Set. signalab-beam parses its command line
// with cobra, so each Beam flag is mirrored as a pflag whose Set calls
// flag.CommandLine.Set: the value lands in Beam's variable and Beam sees it
// as set.

// goFlag mirrors one Go flag in a pflag.FlagSet.
type goFlag struct{ f *flag.Flag }

func (g goFlag) String() string     { return g.f.Value.String() }
func (g goFlag) Set(s string) error { return flag.CommandLine.Set(g.f.Name, s) }
func (g goFlag) Type() string {
	if isBool(g.f) {
		return "bool"
	}
	return "string"
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// beamHidden are Go flags that are not user options: the worker harness's
// own flags (set by a runner's boot program), and ours that Beam's
// equivalent would shadow.
var beamHidden = map[string]bool{
	"worker": true, "id": true, "logging_endpoint": true, "control_endpoint": true,
	"semi_persist_dir": true, "options": true, "runner": true,
	// go test's flags when run under a test binary.
}

// beamCommon are the Beam flags worth listing in --help, in this order,
// grouped by the runner that needs them. The full list is --help-beam.
var beamCommon = []string{
	"endpoint", "environment_type", "environment_config", "job_name", "async",
	"project", "region", "temp_location", "staging_location", "worker_binary",
	"num_workers", "max_num_workers", "worker_machine_type", "service_account_email",
	"parallelism",
}

// addBeamFlags mirrors every user-facing Go flag into fs and returns their
// names.
func addBeamFlags(fs *pflag.FlagSet) []string {
	var names []string
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if beamHidden[f.Name] || strings.HasPrefix(f.Name, "test.") || fs.Lookup(f.Name) != nil {
			return
		}
		pf := fs.VarPF(goFlag{f}, f.Name, "", f.Usage)
		pf.DefValue = f.DefValue
		if isBool(f) {
			pf.NoOptDefVal = "true"
		}
		names = append(names, f.Name)
	})
	sort.Strings(names)
	return names
}

// printBeamFlags writes the Beam flags named in names (all of beam when
// all is true, else the common ones) as an aligned list.
func printBeamFlags(w io.Writer, fs *pflag.FlagSet, names []string, all bool) {
	list := beamCommon
	if all {
		list = names
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, n := range list {
		if !slices.Contains(names, n) {
			continue
		}
		f := fs.Lookup(n)
		usage := strings.Join(strings.Fields(f.Usage), " ")
		if len(usage) > 90 {
			usage = usage[:87] + "..."
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "-1" {
			def = fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintf(tw, "      --%s\t%s%s\n", n, usage, def)
	}
	tw.Flush()
}
