//go:build !linux

package sip

import "net"

func timestampsOn(*net.UDPConn) bool { return false }

func kernelTimestamp([]byte) int64 { return 0 }
