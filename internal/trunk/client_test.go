package trunk

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/gopbx/gopbx/internal/endpoint"
)

// fakeRegistrar answers REGISTERs like a provider: a 401 challenge, then
// reply(req) once the digest is right. It records every request.
type fakeRegistrar struct {
	user, pass string
	reply      func(req *sip.Request) (*sip.Response, error)

	mu   sync.Mutex
	reqs []*sip.Request
	got  chan *sip.Request
}

func newFake(user, pass string) *fakeRegistrar {
	f := &fakeRegistrar{user: user, pass: pass, got: make(chan *sip.Request, 100)}
	f.reply = func(req *sip.Request) (*sip.Response, error) {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("Expires", req.GetHeader("Expires").Value()))
		return res, nil
	}
	return f
}

func (f *fakeRegistrar) Send(ctx context.Context, local string, req *sip.Request) (*sip.Response, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	f.got <- req
	h := req.GetHeader("Authorization")
	if h == nil {
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="prov", nonce="n1", algorithm=MD5, qop="auth"`))
		return res, nil
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		return nil, err
	}
	want, _ := digest.Digest(&digest.Challenge{Realm: "prov", Nonce: "n1", Algorithm: "MD5", QOP: []string{"auth"}},
		digest.Options{Method: "REGISTER", URI: cred.URI, Username: f.user, Password: f.pass, Cnonce: cred.Cnonce, Count: cred.Nc})
	if cred.Username != f.user || cred.Response != want.Response {
		return sip.NewResponseFromRequest(req, 403, "Forbidden", nil), nil
	}
	return f.reply(req)
}

func (f *fakeRegistrar) next(t *testing.T) *sip.Request {
	t.Helper()
	select {
	case r := <-f.got:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no REGISTER")
		return nil
	}
}

func testSpec(tech endpoint.Tech) Spec {
	return Spec{
		Tech: tech, Name: "prov", Server: "sip:127.0.0.1:5099", AOR: "sip:acct@prov.example",
		ContactUser: "did100", Transport: "UDP", Local: "127.0.0.1:5060",
		Username: "acct", Password: "pw", Expiry: 3 * time.Second, Retry: 200 * time.Millisecond,
		AuthPermanent: true,
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func waitState(t *testing.T, m *Manager, want State) Status {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := m.Statuses()
		if len(st) == 1 && st[0].State == want {
			return st[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %v, want %s", st, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Register with a digest answer, refresh before expiry on the same Call-ID
// with a higher CSeq, and un-register (Expires: 0) on shutdown.
func TestRegisterRefreshUnregister(t *testing.T) {
	f := newFake("acct", "pw")
	m := NewManager(f, quiet())
	m.Sync([]Spec{testSpec(endpoint.TechSIP)})
	if st := m.Statuses(); len(st) != 1 || st[0].State != Unregistered {
		t.Fatalf("before Start: %+v", st)
	}
	m.Start(context.Background())

	first := f.next(t)
	if first.Recipient.String() != "sip:127.0.0.1:5099" || first.Destination() != "127.0.0.1:5099" {
		t.Errorf("REGISTER to %s via %s", first.Recipient.String(), first.Destination())
	}
	if to := first.To().Address; to.User != "acct" || to.Host != "prov.example" {
		t.Errorf("To: %s", to.String())
	}
	if ct := first.Contact(); ct == nil || ct.Address.User != "did100" || ct.Address.Host != "127.0.0.1" || ct.Address.Port != 5060 {
		t.Errorf("Contact: %v", first.Contact())
	}
	if v := first.GetHeader("Expires").Value(); v != "3" {
		t.Errorf("Expires: %s", v)
	}
	authed := f.next(t)
	if authed.GetHeader("Authorization") == nil || authed.CallID().Value() != first.CallID().Value() || authed.CSeq().SeqNo != first.CSeq().SeqNo+1 {
		t.Errorf("second REGISTER: %s", authed.String())
	}
	st := waitState(t, m, Registered)
	if st.Refresh != 3*time.Second || st.RegTime.IsZero() {
		t.Errorf("status: %+v", st)
	}

	// chan_sip refreshes a 3 s binding 0.6 s early.
	start := time.Now()
	refresh := f.next(t)
	if d := time.Since(start); d < 1500*time.Millisecond || d > 3*time.Second {
		t.Errorf("refresh after %v", d)
	}
	if refresh.CallID().Value() != first.CallID().Value() {
		t.Errorf("refresh changed Call-ID")
	}
	// The refresh answers the last challenge again (nc=2), as Asterisk does.
	if h := refresh.GetHeader("Authorization"); h == nil || !strings.Contains(h.Value(), "nc=00000002") {
		t.Errorf("refresh without the cached digest: %s", refresh.String())
	}
	waitState(t, m, Registered)

	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var last *sip.Request
	for len(f.got) > 0 {
		last = <-f.got
	}
	if last == nil || last.GetHeader("Expires").Value() != "0" || last.GetHeader("Authorization") == nil {
		t.Fatalf("no authorized Expires: 0 REGISTER at shutdown; last %v", last)
	}
}

func TestRejected(t *testing.T) {
	tests := []struct {
		name  string
		tech  endpoint.Tech
		spec  func(*Spec)
		reply func(req *sip.Request) (*sip.Response, error)
		want  State
		more  bool // another attempt follows
	}{
		{name: "sip/wrong-password", tech: endpoint.TechSIP, spec: func(s *Spec) { s.Password = "bad" }, want: Rejected},
		{name: "sip/404", tech: endpoint.TechSIP, reply: status(404), want: Rejected},
		{name: "sip/503-retries", tech: endpoint.TechSIP, reply: status(503), want: Failed, more: true},
		{name: "sip/timeout", tech: endpoint.TechSIP, reply: func(*sip.Request) (*sip.Response, error) { return nil, errors.New("timer F") }, want: Timeout, more: true},
		{name: "sip/challenged-again", tech: endpoint.TechSIP, reply: status(401), want: NoAuth},
		{name: "pjsip/403-forbidden-retry", tech: endpoint.TechPJSIP, spec: func(s *Spec) { s.Password = "bad"; s.Forbidden = 100 * time.Millisecond }, want: Rejected, more: true},
		{name: "pjsip/challenged-again", tech: endpoint.TechPJSIP, reply: status(401), want: Rejected},
		{name: "pjsip/503", tech: endpoint.TechPJSIP, reply: status(503), want: Unregistered, more: true},
		{name: "pjsip/max-retries", tech: endpoint.TechPJSIP, spec: func(s *Spec) { s.MaxRetries = 1 }, reply: status(503), want: Rejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("acct", "pw")
			if tt.reply != nil {
				f.reply = tt.reply
			}
			if tt.name == "sip/challenged-again" || tt.name == "pjsip/challenged-again" {
				f.reply = func(req *sip.Request) (*sip.Response, error) {
					res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
					res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="prov", nonce="n2"`))
					return res, nil
				}
			}
			s := testSpec(tt.tech)
			if tt.spec != nil {
				tt.spec(&s)
			}
			m := NewManager(f, quiet())
			m.Start(context.Background())
			m.Sync([]Spec{s})
			t.Cleanup(func() { m.Shutdown(context.Background()) })
			waitState(t, m, tt.want)
			f.next(t)
			f.next(t)
			select {
			case r := <-f.got:
				if !tt.more && r.GetHeader("Authorization") == nil {
					t.Errorf("a new attempt after a permanent failure")
				}
			case <-time.After(600 * time.Millisecond):
				if tt.more {
					t.Errorf("no retry")
				}
			}
		})
	}
}

func status(code int) func(req *sip.Request) (*sip.Response, error) {
	return func(req *sip.Request) (*sip.Response, error) {
		return sip.NewResponseFromRequest(req, code, "X", nil), nil
	}
}

// A reload keeps an unchanged client (no new REGISTER), restarts a changed
// one (un-REGISTER, then REGISTER with the new settings), stops a removed one.
func TestSync(t *testing.T) {
	f := newFake("acct", "pw")
	m := NewManager(f, quiet())
	m.Start(context.Background())
	s := testSpec(endpoint.TechPJSIP)
	s.Expiry = time.Hour
	m.Sync([]Spec{s})
	f.next(t)
	f.next(t)
	waitState(t, m, Registered)

	m.Sync([]Spec{s})
	select {
	case r := <-f.got:
		t.Fatalf("unchanged registration sent %s", r.StartLine())
	case <-time.After(300 * time.Millisecond):
	}

	s2 := s
	s2.ContactUser = "other"
	m.Sync([]Spec{s2})
	var seen []string
	for len(seen) < 3 {
		r := f.next(t)
		seen = append(seen, r.GetHeader("Expires").Value()+"/"+r.Contact().Address.User)
	}
	if got := strings.Join(seen, " "); got != "0/did100 3600/other 3600/other" {
		t.Errorf("changed registration: %s", got)
	}
	waitState(t, m, Registered)

	m.Sync(nil)
	if r := f.next(t); r.GetHeader("Expires").Value() != "0" {
		t.Errorf("removed registration: %s", r.String())
	}
	if st := m.Statuses(); len(st) != 0 {
		t.Errorf("statuses after removal: %+v", st)
	}
}

func TestRefreshIn(t *testing.T) {
	for _, tt := range []struct {
		tech endpoint.Tech
		exp  time.Duration
		want time.Duration
	}{
		{endpoint.TechSIP, 120 * time.Second, 105 * time.Second},
		{endpoint.TechSIP, 30 * time.Second, 24 * time.Second},
		{endpoint.TechSIP, 2 * time.Second, 1500 * time.Millisecond},
		{endpoint.TechPJSIP, 3600 * time.Second, 3590 * time.Second},
		{endpoint.TechPJSIP, 8 * time.Second, 4 * time.Second},
		{endpoint.TechPJSIP, time.Second, time.Second},
	} {
		c := &client{spec: Spec{Tech: tt.tech}}
		if got := c.refreshIn(tt.exp); got != tt.want {
			t.Errorf("%s %v: %v, want %v", tt.tech, tt.exp, got, tt.want)
		}
	}
}

func TestGrantedExpiry(t *testing.T) {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "h"})
	ours := sip.Uri{Scheme: "sip", User: "s", Host: "10.0.0.1", Port: 5060}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "x", Host: "10.0.0.9"}, Params: params("expires", "999")})
	res.AppendHeader(&sip.ContactHeader{Address: ours, Params: params("expires", "42")})
	res.AppendHeader(sip.NewHeader("Expires", "60"))
	if got := grantedExpiry(res, ours, time.Hour); got != 42*time.Second {
		t.Errorf("contact expires: %v", got)
	}
	res2 := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res2.AppendHeader(sip.NewHeader("Expires", "60"))
	if got := grantedExpiry(res2, ours, time.Hour); got != time.Minute {
		t.Errorf("Expires header: %v", got)
	}
	if got := grantedExpiry(sip.NewResponseFromRequest(req, 200, "OK", nil), ours, time.Hour); got != time.Hour {
		t.Errorf("nothing granted: %v", got)
	}
}

func params(k, v string) sip.HeaderParams {
	p := sip.NewParams()
	p.Add(k, v)
	return p
}
