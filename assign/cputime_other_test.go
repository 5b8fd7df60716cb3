//go:build !linux

package assign

import "time"

func threadCPU() time.Duration { return -1 }
func lockThread()              {}
func unlockThread()            {}
