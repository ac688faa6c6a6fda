package sipauth

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Challenge returns the 401 (KindWWW) or 407 (KindProxy) response to req,
// made with sip.NewResponseFromRequest (so it carries a To tag), with one
// WWW-Authenticate or Proxy-Authenticate header per algorithm of
// opts.Algorithms (default Config.Algorithms), in that order, all sharing one
// fresh nonce:
//
//	Digest realm="pbx", nonce="…", opaque="…", algorithm=MD5, qop="auth"
//
// plus stale=true when opts.Stale is set. The caller sends it.
func (a *Authenticator) Challenge(req *sip.Request, opts Options) *sip.Response {
	kind := opts.Kind.Resolve(req)
	code, reason := sip.StatusUnauthorized, "Unauthorized"
	if kind == KindProxy {
		code, reason = sip.StatusProxyAuthRequired, "Proxy Authentication Required"
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	realm := a.realmFor(&opts)
	nonce := a.key.newNonce(realm, a.now().UnixNano())
	name := kind.challengeHeader()

	var buf [4]Algorithm
	algs := buf[:0]
	for _, s := range opts.Algorithms {
		if alg, ok := ParseAlgorithm(s); ok {
			algs = appendUnique(algs, alg)
		}
	}
	if len(algs) == 0 {
		algs = a.algs
	}
	for _, alg := range algs {
		res.AppendHeader(sip.NewHeader(name, a.challengeValue(realm, nonce, alg, opts.Stale)))
	}
	return res
}

func (a *Authenticator) challengeValue(realm, nonce string, alg Algorithm, stale bool) string {
	var b strings.Builder
	b.Grow(len(realm) + len(nonce) + len(a.opaque) + 96)
	b.WriteString("Digest realm=")
	writeQuoted(&b, realm)
	b.WriteString(`, nonce="`)
	b.WriteString(nonce)
	b.WriteString(`", opaque="`)
	b.WriteString(a.opaque)
	b.WriteString(`", algorithm=`)
	b.WriteString(alg.String())
	b.WriteString(`, qop="auth"`)
	if stale {
		b.WriteString(", stale=true")
	}
	return b.String()
}
