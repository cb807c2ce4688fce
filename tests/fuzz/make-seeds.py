#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
from the golden protocol exchanges and the JSON messages of the tests.

    tests/fuzz/make-seeds.py [PROTOCOLS_DIR]

PROTOCOLS_DIR holds the protocol notes (openai-realtime.md, ...), by default
/work/shared/docs/protocols. The files written are committed; run again
when the exchanges or the tests change. Seed files are named by the SHA-1
of their content, as libFuzzer names what it adds. The regress-* files are
inputs that found a bug, added by hand: kept as they are.
"""
import base64
import hashlib
import json
import os
import re
import struct
import sys
import zlib

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(TOP, "tests", "fuzz", "corpus")
PROTOCOLS = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/docs/protocols"
MAX_SEED = 8192       # bytes: keeps the corpora small
MAX_PER_TARGET = 200

OPENAI_CLIENT_TYPES = {
    "session.update", "input_audio_buffer.append", "input_audio_buffer.commit",
    "input_audio_buffer.clear", "conversation.item.create",
    "conversation.item.truncate", "conversation.item.delete",
    "conversation.item.retrieve", "response.create", "response.cancel",
    "output_audio_buffer.clear",
}
EVENT_TYPES = {
    "bidi_connection_start", "bidi_connection_restart", "bidi_response_start",
    "bidi_audio_stream", "bidi_transcript_stream", "bidi_interruption",
    "bidi_response_complete", "bidi_usage", "bidi_connection_close",
    "bidi_error", "tool_use_stream", "tool_result", "tool_cancel",
    "bidi_text_input",
    "bidi_audio_input", "bidi_image_input",
    "bidi_user_state", "bidi_agent_state", "bidi_turn_latency",
}

seeds = {}


def add(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > MAX_SEED:
        return
    seeds.setdefault(target, {})[hashlib.sha1(data).hexdigest()] = data


def objects_in(text):
    """The JSON values one after the other in text (anything else skipped)"""
    dec = json.JSONDecoder()
    i = 0
    while i < len(text):
        if text[i] in "{[":
            try:
                value, end = dec.raw_decode(text, i)
                yield value
                i = end
                continue
            except ValueError:
                pass
        i += 1


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def c_strings(path):
    """Adjacent C string literals joined and unescaped, printf conversions
    replaced by plausible values"""
    src = open(path, encoding="utf-8").read()
    src = re.sub(r'"\s*G_G(U)?INT64_FORMAT\s*"', "d", src)
    out = []
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"(?:\s*"(?:[^"\\\n]|\\.)*")*', src):
        parts = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0))
        s = "".join(parts)
        try:
            s = s.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            continue
        s = re.sub(r"%l?l?[du]", "7", s)
        s = re.sub(r"%s", "x", s)
        out.append(s)
    return out


def test_values(relpath):
    for s in c_strings(os.path.join(TOP, "tests", "check", relpath)):
        for v in objects_in(s):
            yield v


# --- the golden exchanges ---------------------------------------------------
openai_doc = os.path.join(PROTOCOLS, "openai-realtime.md")
all_values = []
for name in sorted(os.listdir(PROTOCOLS)):
    if name.endswith(".md"):
        all_values += list(objects_in(open(os.path.join(PROTOCOLS, name),
                                           encoding="utf-8").read()))

def server_exchanges(doc, target):
    """Each fenced block's server messages (lines "S\u2192 ...") as one seed
    of target; returns them all, in order"""
    every = []
    for block in re.findall(r"```\w*\n(.*?)```", doc, re.S):
        exchange = []
        for line in block.splitlines():
            if line.startswith("S\u2192 "):
                for v in objects_in(line[2:]):
                    if isinstance(v, dict):
                        exchange.append(compact(v))
        if exchange:
            add(target, "\n".join(exchange) + "\n")
            every += exchange
    return every


doc = open(openai_doc, encoding="utf-8").read()
session = server_exchanges(doc, "fuzz_openai")
for v in objects_in(doc):
    if isinstance(v, dict) and isinstance(v.get("type"), str) and \
            v["type"] not in OPENAI_CLIENT_TYPES:
        add("fuzz_openai", compact(v))

# --- the tests' messages ----------------------------------------------------
for v in list(test_values("common/mockrealtime.c")) + \
        list(test_values("providers/openai.c")):
    all_values.append(v)
    if isinstance(v, dict) and isinstance(v.get("type"), str) and \
            v["type"] not in OPENAI_CLIENT_TYPES and "." in v["type"]:
        add("fuzz_openai", compact(v))

# whole sessions: the exchanges in a row, with what the element does
if session:
    setup = session[:2]
    add("fuzz_openai", "\n".join(session) + "\n")
    add("fuzz_openai", "\n".join(setup + ["#text"] + session[2:] +
                                 ["#result call_1", "#interrupt 500", "#end"]))
    add("fuzz_openai", "\n".join(setup + ["#audio", "#close 1011"] + session +
                                 ["#close 1000"]))
    add("fuzz_openai", "\n".join(setup + ["#image", "#bad", "{}", "[]",
                                          "#close 4000"] + setup))

# --- Gemini Live: the golden exchange and the tests' server messages --------
GEMINI_SERVER_FIELDS = {
    "setupComplete", "serverContent", "toolCall", "toolCallCancellation",
    "usageMetadata", "goAway", "sessionResumptionUpdate", "voiceActivity",
}
gemini_doc = open(os.path.join(PROTOCOLS, "gemini-live.md"),
                  encoding="utf-8").read()
gemini_session = server_exchanges(gemini_doc, "fuzz_gemini")
for v in list(objects_in(gemini_doc)) + \
        list(test_values("common/mockgemini.c")) + \
        list(test_values("providers/gemini.c")):
    if isinstance(v, dict) and set(v) & GEMINI_SERVER_FIELDS:
        add("fuzz_gemini", compact(v))
if gemini_session:
    add("fuzz_gemini", "\n".join(gemini_session) + "\n")
    add("fuzz_gemini", "\n".join(gemini_session[:1] + ["#text", "#image"] +
                                  gemini_session[1:] +
                                  ["#result function-call-123",
                                   "#interrupt 500", "#end"]))
    add("fuzz_gemini", "\n".join(gemini_session[:1] + ["#audio",
                                                       "#close 1011"] +
                                  gemini_session + ["#close 1007",
                                                    "#close 1008"]))

# --- Nova Sonic: the golden exchange's server events, and exceptions -------
nova_path = os.path.join(PROTOCOLS, "nova-sonic.md")
if os.path.exists(nova_path):
    nova_doc = open(nova_path, encoding="utf-8").read()
    nova_session = server_exchanges(nova_doc, "fuzz_novasonic")
    for v in objects_in(nova_doc):
        if isinstance(v, dict) and isinstance(v.get("event"), dict) and \
                set(v["event"]) & {"completionStart", "contentStart",
                                   "textOutput", "audioOutput", "toolUse",
                                   "contentEnd", "completionEnd",
                                   "usageEvent"}:
            add("fuzz_novasonic", compact(v))
    exceptions = [compact({"exception": {"type": t, "message": m}})
                  for t, m in [("modelTimeoutException", "timed out"),
                               ("validationException",
                                "InternalErrorCode=531"),
                               ("throttlingException", "slow down"),
                               ("validationException", "Duplicate SYSTEM")]]
    for e in exceptions:
        add("fuzz_novasonic", e)
    if nova_session:
        add("fuzz_novasonic", "\n".join(nova_session) + "\n")
        add("fuzz_novasonic", "\n".join(["#audio", "#text", "#image"] +
                                         nova_session +
                                         ["#result tu-77", "#interrupt 500",
                                          "#end"]))
        add("fuzz_novasonic", "\n".join(["#audio"] + nova_session[:4] +
                                         exceptions[:1] + nova_session +
                                         exceptions[2:3] + nova_session +
                                         ["#close 1000"]))

for rel in ["elements/bidievents.c", "examples/bidiserver.c",
            "examples/bidichat.c", "common/mockrealtime-selftest.c"]:
    for v in test_values(rel):
        all_values.append(v)
        if isinstance(v, dict) and v.get("type") in EVENT_TYPES:
            add("fuzz_events", compact(v))
            add("fuzz_events", json.dumps(v, indent=1))
# the structure face
for s in ["bidi_text_input, text=(string)\"Hello\", role=(string)user",
          "bidi_interruption, reason=(string)user_speech",
          "bidi_usage, input_tokens=(int)3, output_tokens=(int)4, "
          "total_tokens=(int)7",
          "tool_result, tool_use_id=(string)call_1, status=(string)success, "
          "content=(string)\"{\\\"a\\\":1}\"",
          "bidi_response_complete, response_id=(string)r1, "
          "stop_reason=(string)complete, extra=(double)1.5"]:
    add("fuzz_events", s)

tools, histories = [], []
for v in list(test_values("elements/biditools.c")) + all_values:
    if isinstance(v, list) and v and all(isinstance(t, dict) and "name" in t
                                         for t in v):
        tools.append(v)
for v in list(test_values("elements/bidihistory.c")) + all_values:
    if isinstance(v, list) and v and all(isinstance(m, dict) and "role" in m
                                         for m in v):
        histories.append(v)
for s in c_strings(os.path.join(TOP, "tests", "check", "elements",
                                "biditools.c")):
    if s.startswith("["):
        add("fuzz_tools", s)
for t in tools:
    add("fuzz_tools", compact(t))
for args in ['{"expression": "2 + 3 * (4 - 1) / 7"}', '{"expression": "-2^10"}',
             '{"timezone": "Europe/Paris"}', '{}', '{"expression": "1/0"}']:
    add("fuzz_tools", args)
for s in c_strings(os.path.join(TOP, "tests", "check", "elements",
                                "bidihistory.c")):
    if s.startswith("["):
        add("fuzz_history", s)
    elif s.startswith("{\"role"):
        add("fuzz_session", s)
for h in histories:
    add("fuzz_history", compact(h))
    # a session file: one message a line
    add("fuzz_session", "\n".join(compact(m) for m in h) + "\n")

# --- JSON and base64 ----------------------------------------------------------
for v in all_values[:MAX_PER_TARGET]:
    add("fuzz_json", compact(v))
for s in ['', 'null', '1.5e3', '"\\u00e9\\ud83d\\ude00"', '[[[[]]]]',
          '{"a":{"b":[1,-0,2e-5,true,false,null]}}']:
    add("fuzz_json", s)

b64 = set(["", "AAAA", "AA==", "AAA=", "////", "QUJD", "QUJDRA==",
           "AAECAwQFBgcICQoLDA0ODw=="])
for v in all_values:
    if isinstance(v, dict):
        for key in ("audio", "delta", "data"):
            x = v.get(key)
            if isinstance(x, str) and re.fullmatch(r"[A-Za-z0-9+/]+=*", x):
                b64.add(x)
for s in b64:
    add("fuzz_base64", s)

# --- provider-config ----------------------------------------------------------
for s in ["config, turn-detection=(string)semantic_vad, eagerness=(string)high",
          "config, vad-threshold=(double)0.7, prefix-padding-ms=(int)300, "
          "silence-duration-ms=(int)500, idle-timeout-ms=(int)10000",
          "config, create-response=(boolean)false, "
          "interrupt-response=(boolean)true",
          "config, transcription-model=(string)gpt-4o-transcribe, "
          "transcription-language=(string)en, transcription-prompt=(string)x",
          "config, noise-reduction=(string)far_field, "
          "output-modalities=(string)text, max-output-tokens=(int)4096",
          "config, speed=(double)1.25, tool-choice=(string)required, "
          "image-detail=(string)low",
          "config, organization=(string)org-1, project=(string)proj-1",
          "config, reconnect-attempts=(int)3, reconnect-delay-ms=(int)100, "
          "max-session-s=(int)600, connect-timeout-ms=(int)5000, "
          "keepalive-s=(int)20, max-message-size=(int)1048576",
          "config, volume=(double)3, record-audio=false",
          "wss://127.0.0.1:8443/v1/realtime?model=x\nconfig, speed=1.0",
          "ws://localhost/v1/realtime\nconfig",
          "https://example.com/\nconfig, vad-threshold=2",
          "config, tool-scheduling=(string)\"when-idle,lookup=silent\", "
          "tool-behavior=(string)non-blocking, start-sensitivity=(string)low",
          "config, setup=(string)\"{\\\"generationConfig\\\": "
          "{\\\"topK\\\": 3}}\", turn-detection=(string)none, "
          "api-version=(string)v1alpha",
          "config, compression-trigger-tokens=(int)25600, "
          "response-modality=(string)text, media-resolution=(string)low"]:
    add("fuzz_config", s)
for s in set(re.findall(r'provider-config=\\"([^\\]*)\\"',
                        "".join(open(os.path.join(d, f)).read()
                                for d, _, fs in os.walk(os.path.join(TOP, "tests", "check"))
                                for f in fs if f.endswith(".c")))):
    add("fuzz_config", s)

# --- fuzz_eventstream: the byte examples of nova-sonic.md §4-§6 --------------
# Rebuilt here from what the doc shows (its CRCs are checked against the
# text), then framed as the target reads its input: a byte (low 3 bits: how
# many slice sizes follow, minus one; top bit: a small size limit), the
# slice sizes, the stream.
nova_doc = open(os.path.join(PROTOCOLS, "nova-sonic.md"), encoding="utf-8").read()


def es_message(headers, payload):
    prelude = struct.pack(">II", 16 + len(headers) + len(payload), len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def es_string(name, value):
    return (bytes([len(name)]) + name.encode() + b"\x07" +
            struct.pack(">H", len(value)) + value.encode())


def es_signed(ms, sig, payload):
    return es_message(b"\x05:date\x08" + struct.pack(">q", ms) +
                      b"\x10:chunk-signature\x06\x00\x20" + bytes.fromhex(sig),
                      payload)


def doc_crc(message):
    """the message's CRC as the doc prints it, which must be there"""
    crc = message[-4:].hex()
    assert crc in nova_doc, "nova-sonic.md has no CRC " + crc
    return message


example1 = doc_crc(es_message(es_string("some-header", "value"), b"test payload"))
end_b64 = re.search(r"base64\s*`([A-Za-z0-9+/=]+)`", nova_doc).group(1)
example2 = doc_crc(base64.b64decode(end_b64))
inner = doc_crc(es_message(
    es_string(":event-type", "chunk") + es_string(":message-type", "event") +
    es_string(":content-type", "application/json"),
    b'{"bytes":"' + base64.b64encode(b'{"event":{"sessionEnd":{}}}') + b'"}'))
outer = doc_crc(es_signed(1767268801000, "35fbdc673fb8b4b0593ee716058f5b74dc37c460eaf8f559c72a62276eaebe0f", inner))
final = doc_crc(es_signed(1767268802000, "b7fb802dd0dad3785ee3d720d22fb6aceb55e654a2f1e5bbce02dc81764a07b3", b""))
exception = es_message(
    es_string(":message-type", "exception") +
    es_string(":exception-type", "validationException"),
    b'{"message":"Invalid input"}')
error = es_message(
    es_string(":message-type", "error") + es_string(":error-code", "x") +
    es_string(":error-message", "y"), b"")
every_type = es_message(
    b"\x01t\x00" b"\x01f\x01" b"\x01b\x02\xfe" b"\x01s\x03\x01\x02"
    b"\x01i\x04\x00\x00\x00\x01" b"\x01l\x05" + bytes(8) +
    b"\x01y\x06\x00\x01z" b"\x01m\x08" + bytes(8) + b"\x01u\x09" + bytes(16),
    b"p")
streams = [example1, example2, inner, outer, final, exception, error,
           every_type, outer + final, example1 + example2 + inner,
           outer[:100], example1[:5]]
for stream in streams:
    add("fuzz_eventstream", b"\x00\x00" + stream)        # byte by byte
    add("fuzz_eventstream", b"\x00\xff" + stream)        # whole (up to 256)
    add("fuzz_eventstream", b"\x03\x04\x10\x00\x40" + stream)
# with the 512-byte limit: one under it, one over
add("fuzz_eventstream", b"\x80\xff" + outer)
add("fuzz_eventstream", b"\x80\xff" + es_message(b"", bytes(600)))

# --- write ------------------------------------------------------------------
for target, files in sorted(seeds.items()):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for name, data in sorted(files.items())[:MAX_PER_TARGET]:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (target, min(len(files), MAX_PER_TARGET)))
