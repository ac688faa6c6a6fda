// Package sound reads and writes the audio files behind Playback, Background,
// Record and MusicOnHold.
//
// All audio leaves a [Reader] as signed linear 16-bit mono at 8 kHz ("slin")
// in 20 ms frames of [FrameSamples] samples, whatever the file holds: WAV
// (PCM 16-bit at any rate the codec resampler handles, µ-law, A-law, mono or
// multi-channel downmixed), or Asterisk's raw formats .sln, .sln16,
// .ulaw/.pcm, .alaw, .gsm and .g722. A [Writer] records slin to the same
// formats, chosen by file extension.
//
// A [Finder] resolves Asterisk sound names ("vm-intro", "digits/7",
// "/var/lib/asterisk/sounds/custom/foo") the way Asterisk does: language
// directories first, then the bare name, formats in a fixed preference order,
// and finally an embedded fs.FS (the prompts gopbx ships). Names
// "silence/N" are synthesised rather than read.
package sound
