// Package endpoint is the PBX's one view of the phones and trunks it knows,
// whichever file declared them: chan_sip peers from sip.conf (Tech "SIP") and
// res_pjsip endpoints from pjsip.conf (Tech "PJSIP") become the same Endpoint,
// so the registrar, the channel drivers and the console never parse config.
package endpoint
