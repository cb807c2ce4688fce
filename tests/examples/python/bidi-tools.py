#!/usr/bin/python3
# gst-bidi: an application tool answered from Python (PyGObject)
# Copyright (C) 2026 gst-bidi developers
#
# This library is free software; you can redistribute it and/or
# modify it under the terms of the GNU Library General Public
# License as published by the Free Software Foundation; either
# version 2 of the License, or (at your option) any later version.

"""Talk to bidiagent; the application, not the element, is the clock.

The agent's `current_time` tool is declared as an application tool (the
`tools` property), so when the model wants the time, bidiagent emits
`tool-call` and this program answers with `send-tool-result`. Transcripts
and tool calls are printed as they come.

    bidi-tools.py                        microphone and speakers
    bidi-tools.py --input question.wav   a WAV file as the microphone
    bidi-tools.py --fake-time "4:20 PM"  the clock says 4:20 PM

Needs python3-gi and python3-gst-1.0, and bidiagent on GST_PLUGIN_PATH.
"""

import argparse
import datetime
import json
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GLib", "2.0")
from gi.repository import GLib, Gst  # noqa: E402

# The application's tools: a JSON array of {name, description, parameters}
TOOLS = [
    {
        "name": "current_time",
        "description": "The current local time, as told by the application",
        "parameters": {"type": "object", "properties": {}},
    }
]


def parse_args():
    p = argparse.ArgumentParser(
        description="Ask bidiagent the time; the application answers it")
    p.add_argument("--input", metavar="WAV",
                   help="read the user's speech from this WAV file instead "
                   "of the microphone")
    p.add_argument("--output", metavar="WAV",
                   help="write the agent's voice to this WAV file instead "
                   "of the speakers")
    p.add_argument("--fake-time", metavar="TIME",
                   help='the time the application\'s clock tells, e.g. '
                   '"4:20 PM" (default: the real local time)')
    p.add_argument("--provider", default="local",
                   help="bidiagent provider (default: local, offline)")
    return p.parse_args()


class App:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.status = 0

        if args.input:
            # identity sync=true plays the file in real time, like a
            # microphone would deliver it
            src = ('filesrc location="{}" ! wavparse ! identity sync=true'
                   .format(args.input.replace('"', '\\"')))
        else:
            src = "autoaudiosrc"
        if args.output:
            sink = ('audioconvert ! wavenc ! filesink location="{}"'
                    .format(args.output.replace('"', '\\"')))
        else:
            sink = "audioconvert ! audioresample ! autoaudiosink"

        self.pipeline = Gst.parse_launch(
            "{} ! audioconvert ! audioresample ! bidiagent name=agent ! {}"
            .format(src, sink))
        self.agent = self.pipeline.get_by_name("agent")
        self.agent.set_property("provider", args.provider)
        # current_time is ours: it must not also be a built-in tool
        self.agent.set_property("builtin-tools", "calculator,stop_conversation")
        self.agent.set_property("tools", json.dumps(TOOLS))
        self.agent.connect("tool-call", self.on_tool_call)

        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    # Emitted from the element's network thread: take the call at once
    # (return True) and answer later, here from the main loop.
    def on_tool_call(self, agent, tool_use_id, name, tool_input):
        print("tool call: {} {} ({})".format(name, tool_input, tool_use_id),
              flush=True)
        GLib.idle_add(self.answer_tool, tool_use_id, name)
        return True

    def answer_tool(self, tool_use_id, name):
        if name == "current_time":
            if self.args.fake_time:
                told = self.args.fake_time
            else:
                told = datetime.datetime.now().strftime("%I:%M %p").lstrip("0")
            result, status = json.dumps({"time_12h": told}), "success"
        else:
            result, status = json.dumps({"error": "no such tool"}), "error"
        ok = self.agent.emit("send-tool-result", tool_use_id, result, status)
        print("tool result: {} {} ({})".format(
            status, result, "sent" if ok else "refused"), flush=True)
        return GLib.SOURCE_REMOVE

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ELEMENT and msg.src == self.agent:
            st = msg.get_structure()
            name = st.get_name()
            if name == "bidi_transcript_stream":
                ok, final = st.get_boolean("is_final")
                if ok and final:
                    print("{}: {}".format(st.get_string("role"),
                                          st.get_string("text")), flush=True)
            elif name == "bidi_interruption":
                print("(interrupted)", flush=True)
            elif name == "bidi_error":
                print("agent error: {}".format(st.get_string("message")),
                      file=sys.stderr, flush=True)
        elif msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print("error: {} ({})".format(err.message, debug),
                  file=sys.stderr, flush=True)
            self.status = 1
            self.loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            self.loop.quit()
        return True

    # Ctrl-C: end the input; the agent finishes its answer, then EOS
    def on_sigint(self):
        print("(ending the conversation)", flush=True)
        self.pipeline.send_event(Gst.Event.new_eos())
        return GLib.SOURCE_CONTINUE

    def run(self):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT,
                             self.on_sigint)
        if self.pipeline.set_state(Gst.State.PLAYING) == \
                Gst.StateChangeReturn.FAILURE:
            # the element that failed said why on the bus
            msg = self.pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
            if msg:
                self.on_message(None, msg)
            else:
                print("error: the pipeline did not start", file=sys.stderr)
            self.status = 1
        else:
            self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        self.pipeline.get_bus().remove_signal_watch()
        return self.status


def main():
    args = parse_args()
    Gst.init(None)
    if not Gst.ElementFactory.find("bidiagent"):
        print("error: no bidiagent element: set GST_PLUGIN_PATH",
              file=sys.stderr)
        return 1
    return App(args).run()


if __name__ == "__main__":
    sys.exit(main())
