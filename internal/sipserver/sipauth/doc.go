// Package sipauth is the server side of SIP digest authentication
// (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): it builds 401/407
// challenges and verifies the Authorization / Proxy-Authorization header of
// the retried request.
//
// # Contract
//
// An [Authenticator] is built once with [New] and is safe for concurrent use.
// It holds no per-call state other than a bounded replay table; nonces are
// stateless HMAC tokens that bind the issue time, the realm and a random
// part, so they survive across goroutines and (with a shared
// [Config.Secret]) across instances.
//
// A handler calls [Authenticator.Verify] with the same [Options] it passes
// to [Authenticator.Challenge], then maps the error to a response. Verify
// never sends anything: exactly one place, the caller, answers the request.
//
//	res, err := auth.Verify(ctx, req, sipauth.Options{})
//	switch {
//	case err == nil:
//		// authenticated as res.Username with res.Credential
//	case sipauth.IsStale(err):
//		// The client knows the password but its nonce is expired or was
//		// already used: re-challenge with stale=true so it retries silently.
//		tx.Respond(auth.Challenge(req, sipauth.Options{Stale: true}))
//	case sipauth.IsFailed(err):
//		// Wrong password or unknown user. Answer both identically
//		// (alwaysauthreject): the error text is for logs only.
//		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
//	default:
//		// ErrNoCredentials or ErrInvalid: (re-)challenge.
//		tx.Respond(auth.Challenge(req, sipauth.Options{}))
//	}
//
// The error values are [ErrNoCredentials], [ErrInvalid], [ErrStale],
// [ErrReplay], [ErrWrongPassword] and [ErrUnknownUser], wrapped with details
// (user, realm, reason) meant for logs; match them with [errors.Is]. They must
// not be reflected to the client: use [IsFailed] and [IsStale] to pick the
// response so that an unknown user and a wrong password look the same on
// the wire. Verify also spends the same hashing work on an unknown user as on
// a known one.
//
// # Which header
//
// [Options.Kind] selects the header pair. The zero value, [KindAuto], uses
// 401 WWW-Authenticate / Authorization for REGISTER and 407
// Proxy-Authenticate / Proxy-Authorization for every other method (the
// chan_sip behaviour; force [KindWWW] for the pjsip one). ACK and CANCEL
// must not be challenged (RFC 3261 §22.1); that is the caller's business.
// Challenge builds the response with [sip.NewResponseFromRequest], which adds
// a To tag when the request has none, so a 401 to REGISTER carries one.
//
// # Algorithms
//
// MD5, MD5-sess, SHA-256 and SHA-256-sess are supported. A challenge offers
// one header per algorithm, in the order given (put "SHA-256" before "MD5",
// RFC 8760 §2.4); the default is MD5 only, like Asterisk. Verify accepts any
// supported algorithm the matched [endpoint.Credential] allows
// (Credential.Algorithms, empty meaning MD5; an "X" entry also allows
// "X-sess"). A credential holding only an HA1 (md5secret) is MD5 only;
// [ChallengeAlgorithms] derives the list to offer from an endpoint's
// credentials so that such an endpoint is never offered SHA-256 alone.
// userhash and qop=auth-int are not supported.
//
// # Nonces and replay
//
// qop=auth is offered. A response with qop=auth needs cnonce and nc, and nc
// must strictly increase for each nonce. A response without qop (RFC 2069
// style) is accepted, but its nonce is then single-use. The highest nc seen
// for each nonce lives in a sharded table bounded by [Config.MaxNonces];
// when a shard is full, expired nonces are dropped first, then the oldest
// live ones, and any nonce older than the evicted ones is from then on
// refused as stale (so eviction can cost a retry, never a replay). Nonces
// minted before the Authenticator was built are stale too, so a restart
// with a persistent secret does not reopen a replay window. With several
// instances sharing a secret, replay protection is per instance.
//
// Stale is reported (per RFC 2617 §3.2.1) only when the digest itself is
// right; an expired nonce with a wrong password is a failure.
//
// The uri parameter must designate the Request-URI: scheme, user, password,
// host and port must be equal (scheme and host case-insensitively) and the
// same URI parameters and headers must be present, in any order.
package sipauth
