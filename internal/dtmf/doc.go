// Package dtmf carries DTMF digits the three ways a PBX meets them: as
// RFC 4733 telephone-events in RTP (Event, Receiver, Sender), in band as
// dual tones in the audio (Generator, Detector), and in SIP INFO bodies
// (ParseInfo, FormatInfoRelay).
//
// Digits are the bytes '0'-'9', '*', '#', 'A'-'D' and Flash ('!') for
// event 16, hook flash, as Asterisk's res_pjsip_dtmf_info writes it.
// Lower-case 'a'-'d' are accepted on input.
//
// Audio is signed 16-bit linear PCM at 8000 Hz, the internal media format.
// Receiver, Sender, Generator and Detector each belong to one goroutine;
// they keep per-stream state and no global state.
package dtmf
