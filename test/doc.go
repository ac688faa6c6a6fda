// Package test holds gopbx's integration tests: the real binary, started
// from Asterisk-style config, driven by real SIP peers (SIPp scenarios in
// ./scenarios, baresip) through the helpers in ./harness.
//
// Each test owns a 127.0.N.0/24 block (gopbx on .1, peers on .2 and up), so
// they run in parallel. Blocks in use: 21-29 registration, 31-32 request
// validation, 41 baresip, 51 lifecycle; the TLS and WebSocket tests use
// single addresses 127.0.0.121-129 (tls_test.go, ws_test.go); the
// harness's own tests use 127.0.251.0/24 and NextIP 127.2.0.0/16. Missing peers skip a test, or
// fail it with CI=true. Run: make test-integration, or go test ./test/...
package test
