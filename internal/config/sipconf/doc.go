// Package sipconf loads chan_sip's sip.conf into typed settings and maps its
// peers to endpoint.Endpoint.
//
// It follows chan_sip (Asterisk 13 to 20) option by option: [general] sets
// the listeners, NAT, registration limits and register => lines, and also the
// defaults every peer starts from (context, nat, dtmfmode, allow, qualify,
// ...). Every other section with type=friend, peer or user is a peer;
// [authentication] holds outbound realm credentials. As in chan_sip, a
// section without a type= is skipped with a warning, and so is a peer with
// a bad deny=/permit=. Unknown options are warnings citing file:line.
//
// Defaults are chan_sip's except:
//
//   - allowguest defaults to no (chan_sip: yes), so a fresh install does not
//     take calls from unknown callers; set allowguest=yes to restore it;
//   - useragent defaults to "gopbx";
//   - insecure=very and insecure=yes, removed from chan_sip long ago, are
//     still read (as port,invite and port) with a deprecation warning.
package sipconf
