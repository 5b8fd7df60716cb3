// Package fault marks the points of a run where a crash would leave files
// half-replaced: every rename of an output and every boundary between
// stages. In a normal build Point does nothing. Built with the tag
// faultinject (as the fault-injection tests build the CLI), it counts the
// points a process passes, logs their names to the file named by
// SIGNALAB_FAULT_LOG, and kills the process with SIGKILL at the point
// numbered SIGNALAB_FAULT_KILL_AT (1-based), so a test can crash a real
// run at each point and check what is left on disk.
package fault

// Enabled reports whether this build injects faults (tag faultinject).
const Enabled = enabled
