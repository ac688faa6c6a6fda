// Package sounds holds the voice prompts and music on hold that gopbx ships,
// embedded in the binary so a PBX started from anywhere (go run, a container
// without /var/lib/asterisk) can still say "hello-world".
//
// Prompts use Asterisk's file names (en/vm-intro.wav, en/digits/7.wav…), so
// dialplans written for Asterisk find them unchanged. The files are generated
// by gen.sh from prompts.txt with espeak-ng and sox; see README.md.
//
// Layout of [FS]:
//
//	en/<name>.wav        prompts, 8 kHz mono µ-law WAV
//	moh/default-N.wav    music on hold for the "default" class
//	prompts.txt          "name: text" for every prompt in en/
//
// silence/1…silence/10 are not stored: the sound package synthesises them.
package sounds
