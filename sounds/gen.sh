#!/usr/bin/env bash
# gen.sh regenerates the prompts and music on hold under sounds/ from
# prompts.txt, using espeak-ng and sox only, so the output is free of the
# licence terms that cover recorded prompt packs.
#
# Usage: sounds/gen.sh [name...]   (no names: everything)
# Env:   VOICE (espeak-ng voice, default en-us+f3), SPEED (words/min, 150),
#        ENCODING (u-law, the default, keeps the repository small; or
#        signed-integer for 16-bit PCM WAV), MOH=0 to skip
#        music on hold.
#
# Every sox call has -R (repeatable dither/noise seeds), so the same inputs
# give byte-identical files and regenerating does not churn the repository.
# Files of prompts removed from prompts.txt are not deleted; go test
# ./sounds reports them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
voice=${VOICE:-en-us+f3}
speed=${SPEED:-150}
encoding=${ENCODING:-u-law}
case $encoding in
signed-integer) bits=16 ;;
u-law) bits=8 ;;
*) echo "gen.sh: ENCODING must be signed-integer or u-law" >&2; exit 2 ;;
esac
out=$here/en
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# finish converts a source file to the shipped format: 8 kHz mono, trimmed of
# leading/trailing silence, peak-normalised to -3 dBFS, 50 ms of padding so
# back-to-back prompts (digits) do not run together.
finish() {
	local in=$1 dst=$2
	mkdir -p "$(dirname "$dst")"
	sox -V1 -R "$in" -r 8000 -c 1 -b "$bits" -e "$encoding" "$dst" \
		highpass 80 rate -v 8000 \
		silence 1 0.01 -45d reverse silence 1 0.01 -45d reverse \
		norm -3 pad 0.05 0.05
}

# tone makes the prompts that are sounds rather than speech.
tone() {
	local name=$1 dst=$2
	mkdir -p "$(dirname "$dst")"
	case $name in
	beep) # Asterisk's beep: a plain 1 kHz tone of a quarter second.
		sox -V1 -R -n -r 8000 -c 1 -b "$bits" -e "$encoding" "$dst" \
			synth 0.25 sine 1000 fade 0.005 0.25 0.005 norm -3 ;;
	beeperr) # Two low buzzes: unmistakably "wrong" next to beep.
		sox -V1 -R -n -r 8000 -c 1 "$tmp/e.wav" synth 0.18 square 400 fade 0.005 0.18 0.01 pad 0 0.08 vol 0.5
		sox -V1 -R "$tmp/e.wav" "$tmp/e.wav" -b "$bits" -e "$encoding" "$dst" norm -3 ;;
	tt-monkeys) # Chattering chirps standing in for screaming monkeys.
		local parts=() i f
		for i in 1 2 3 4 5 6 7 8; do
			f=$((700 + (i * 373) % 900))
			sox -V1 -R -n -r 8000 -c 1 "$tmp/m$i.wav" synth 0.12 sine "$f-$((f + 900))" fade 0.01 0.12 0.03 pad 0 0.0$((i % 3 + 3))
			parts+=("$tmp/m$i.wav")
		done
		sox -V1 -R "${parts[@]}" "${parts[@]}" -b "$bits" -e "$encoding" "$dst" norm -3 ;;
	*) echo "gen.sh: no tone recipe for $name" >&2; return 1 ;;
	esac
}

declare -A only=()
for n in "$@"; do only[$n]=1; done

n=0
while IFS= read -r line; do
	case $line in ''|\;*) continue ;; esac
	name=${line%%:*}
	text=${line#*:}
	text=${text# }
	if [ ${#only[@]} -gt 0 ] && [ -z "${only[$name]:-}" ]; then continue; fi
	dst=$out/$name.wav
	if [ "$text" = "[tone]" ]; then
		tone "$name" "$dst"
	else
		espeak-ng -v "$voice" -s "$speed" -w "$tmp/s.wav" -- "$text"
		finish "$tmp/s.wav" "$dst"
	fi
	n=$((n + 1))
done <"$here/prompts.txt"
echo "gen.sh: $n prompts in $out" >&2

if [ "${MOH:-1}" = 0 ] || [ ${#only[@]} -gt 0 ]; then exit 0; fi

# Music on hold: original arpeggios over soft pads, composed here from
# common chord progressions, so they carry no third-party rights.
moh=$here/moh
mkdir -p "$moh"

# note FREQ SECONDS FILE: a plucked note that decays, like a harp.
note() { sox -V1 -R -n -r 8000 -c 1 "$3" synth "$2" pluck "$1" fade 0 "$2" "$(echo "$2 * 0.6" | bc -l)"; }

# piece OUT STEP CHORDS...: each chord is "root third fifth" in Hz; it is
# arpeggiated up and down (8 notes of STEP s) over a sine pad of the chord,
# and the progression is played twice.
piece() {
	local dst=$1 step=$2; shift 2
	local arps=() pads=() chord i=0 a b c len
	len=$(echo "$step * 8" | bc -l)
	for chord in "$@"; do
		read -r a b c <<<"$chord"
		local seq=("$a" "$b" "$c" "$(echo "$a * 2" | bc -l)" "$(echo "$b * 2" | bc -l)" "$(echo "$a * 2" | bc -l)" "$c" "$b")
		local notes=() j=0 f
		for f in "${seq[@]}"; do
			note "$f" "$step" "$tmp/n$i-$j.wav"
			notes+=("$tmp/n$i-$j.wav")
			j=$((j + 1))
		done
		sox -V1 -R "${notes[@]}" "$tmp/arp$i.wav"
		sox -V1 -R -n -r 8000 -c 1 "$tmp/pad$i.wav" synth "$len" sine "$(echo "$a / 2" | bc -l)" sine "$a" sine "$b" sine "$c" \
			remix - fade q 0.4 "$len" 0.4 vol 0.35
		arps+=("$tmp/arp$i.wav")
		pads+=("$tmp/pad$i.wav")
		i=$((i + 1))
	done
	sox -V1 -R "${arps[@]}" "${arps[@]}" "$tmp/arp.wav"
	sox -V1 -R "${pads[@]}" "${pads[@]}" "$tmp/pad.wav"
	sox -V1 -R -m "$tmp/arp.wav" "$tmp/pad.wav" -b "$bits" -e "$encoding" "$dst" \
		fade t 0.5 0 1.5 lowpass 3000 reverb 30 50 60 norm -6
}

# Frequencies (Hz) of the triads used.
C="261.63 329.63 392.00"; Am="220.00 261.63 329.63"; F="174.61 220.00 261.63"; G="196.00 246.94 293.66"
D="293.66 369.99 440.00"; Bm="246.94 293.66 369.99"; Em="164.81 196.00 246.94"; A="220.00 277.18 329.63"
Dm="146.83 174.61 220.00"; Bb="233.08 293.66 349.23"
piece "$moh/default-1.wav" 0.375 "$C" "$Am" "$F" "$G"      # I vi IV V, 24 s
piece "$moh/default-2.wav" 0.45 "$D" "$Bm" "$G" "$A"       # I vi IV V in D, slower, 28.8 s
piece "$moh/default-3.wav" 0.375 "$F" "$Dm" "$Bb" "$C"     # I vi IV V in F, 24 s
echo "gen.sh: music on hold in $moh" >&2
