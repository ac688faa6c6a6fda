// Package harness runs gopbx and real SIP peers (SIPp, baresip, Kamailio)
// as child processes for the integration tests in ./test.
//
// Every test owns one or more loopback addresses (see IP and NextIP), so
// tests run in parallel without port clashes; nothing ever binds outside
// 127.0.0.0/8. Every child process is bounded in time, is stopped by
// t.Cleanup, and dies with the test binary (Pdeathsig). A child's output goes
// to a file that is printed with t.Log when the test fails.
//
// A peer that is not installed skips the test, except when CI=true, where
// it fails it: CI must never pass by skipping. scripts/install-test-deps.sh
// installs them all.
//
// Environment:
//
//	CI=true             missing tools fail tests instead of skipping them
//	GOPBX_BIN=path      use this gopbx binary instead of building ./cmd/gopbx
//	GOPBX_TEST_RACE=1   build gopbx with -race
package harness
