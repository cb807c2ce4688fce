#!/bin/sh
# The main job, offline: installs what is needed (Debian 12, as root),
# builds, speaks a question with flite, sends it through bidiagent (default
# provider: local) and writes the spoken answer to demo/answer.wav, printing
# the transcripts.
#
#   ./tests/run-demo.sh ["question to ask"]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-build}
out=${DEMO_DIR:-$top/demo}
question=${1:-What time is it}

"$top/tests/install-and-build.sh" >&2

mkdir -p "$out"
flite -voice slt -t "$question" -o "$out/question.wav"
echo "question: $question ($out/question.wav)"

export GST_PLUGIN_PATH="$top/$build/gst/bidiagent${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
gst-launch-1.0 -m filesrc location="$out/question.wav" ! wavparse ! \
  audioconvert ! bidiagent ! wavenc ! filesink location="$out/answer.wav" \
  > "$out/messages.txt"

# Final transcripts, from the bus messages gst-launch printed
sed -n 's/.*bidi_transcript_stream, .*text=(string)\("[^"]*"\|[^,]*\), role=(string)\([a-z]*\), is_final=(boolean)true.*/\2: \1/p' \
  "$out/messages.txt" | sed 's/\\ / /g; s/"//g'
echo "answer: $out/answer.wav ($(stat -c %s "$out/answer.wav") bytes)"
