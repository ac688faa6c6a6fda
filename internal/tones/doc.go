// Package tones generates Asterisk's call-progress indications: dial, busy,
// ring and congestion tones and the rest of indications.conf, as the
// Playtones application and channel indications play them.
//
// A tone list is written exactly as in Asterisk's indications.conf and
// Playtones():
//
//	part     = ["!"] freq ["+" freq | "*" freq] ["/" duration_ms]
//	freq     = Hz | "M" midi_note        (0 Hz is silence)
//	list     = part {"," part}           ("|" also separates, as in Asterisk)
//
// f1+f2 mixes two tones, f1*f2 amplitude-modulates f1 by f2. A part without
// a duration lasts until the tone is stopped. The list repeats from its
// first part not marked "!"; if every part is marked, it plays once.
// Parse accepts what main/indications.c ast_tone_zone_part_parse accepts,
// but rejects what Asterisk would log and skip or silently truncate (a
// trailing "350+440/abc", a MIDI note above 127), so mistakes surface at
// load time with a file:line.
//
// Generators produce signed 16-bit linear PCM at 8000 Hz in 20 ms frames
// (FrameSamples samples), the internal media format. Oscillators keep their
// phase across frames and across parts that keep a frequency, and a tone
// that starts after silence starts at a zero crossing, so cadences do not
// click. Unlike Asterisk, which switches parts only at frame boundaries,
// parts switch on the exact sample, so cadences do not drift.
//
// Zones holds the per-country tone sets of indications.conf; Defaults
// returns the zones of Asterisk's indications.conf.sample for use when no
// file exists. A Zones value is immutable and safe for concurrent use; a
// Generator belongs to one goroutine.
package tones
