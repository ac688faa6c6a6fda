//go:build !linux

package gctune

func physicalMemory() uint64 { return 0 }
