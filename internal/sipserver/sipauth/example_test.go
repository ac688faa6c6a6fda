package sipauth_test

import (
	"context"
	"fmt"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/sipserver/sipauth"
)

// registerResponse is the auth step of a REGISTER handler: it returns the
// response to send, or nil when the request is authenticated and the
// registrar may go on.
func registerResponse(ctx context.Context, auth *sipauth.Authenticator, req *sip.Request) (*sip.Response, string) {
	res, err := auth.Verify(ctx, req, sipauth.Options{})
	switch {
	case err == nil:
		return nil, res.Username
	case sipauth.IsStale(err):
		return auth.Challenge(req, sipauth.Options{Stale: true}), ""
	case sipauth.IsFailed(err):
		// Same answer for an unknown user and a wrong password; err (with
		// res.Username) goes to the log, never to the client.
		return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil), ""
	default: // ErrNoCredentials, ErrInvalid
		return auth.Challenge(req, sipauth.Options{}), ""
	}
}

func Example() {
	users := map[string][]endpoint.Credential{
		"1000": {{Username: "1000", Password: "s3cret"}},
	}
	auth, err := sipauth.New(sipauth.Config{
		Realm: "pbx.example.com",
		Lookup: sipauth.LookupFunc(func(_ context.Context, user string) ([]endpoint.Credential, bool) {
			c, ok := users[user]
			return c, ok
		}),
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	register := func(authorization string) *sip.Request {
		req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "pbx.example.com"})
		req.AppendHeader(sip.NewHeader("Via", "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds"))
		req.AppendHeader(sip.NewHeader("From", "<sip:1000@pbx.example.com>;tag=1928301774"))
		req.AppendHeader(sip.NewHeader("To", "<sip:1000@pbx.example.com>"))
		req.AppendHeader(sip.NewHeader("Call-ID", "a84b4c76e66710"))
		req.AppendHeader(sip.NewHeader("CSeq", "1 REGISTER"))
		if authorization != "" {
			req.AppendHeader(sip.NewHeader("Authorization", authorization))
		}
		return req
	}

	// First attempt: no credentials, so a 401 challenge.
	res, _ := registerResponse(ctx, auth, register(""))
	fmt.Println(res.StatusCode, res.Reason)

	// The phone answers the challenge (here with the digest library sipgo's
	// client uses).
	chal, _ := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	answer := func(password string) string {
		cred, _ := digest.Digest(chal, digest.Options{
			Method: "REGISTER", URI: "sip:pbx.example.com", Username: "1000", Password: password, Count: 1,
		})
		return cred.String()
	}
	res, user := registerResponse(ctx, auth, register(answer("s3cret")))
	fmt.Println(res == nil, user)

	// The same answer again is a replay: re-challenge with stale=true.
	res, _ = registerResponse(ctx, auth, register(answer("s3cret")))
	fmt.Println(res.StatusCode, res.GetHeader("WWW-Authenticate") != nil)

	// A wrong password is refused.
	res, _ = registerResponse(ctx, auth, register(answer("guess")))
	fmt.Println(res.StatusCode, res.Reason)
	// Output:
	// 401 Unauthorized
	// true 1000
	// 401 true
	// 403 Forbidden
}
