/* gst-bidi: the page bidi-server serves.
 *
 * Talks to the server's WebSocket (/text-chat) in the seeds' JSON events:
 * the microphone goes out as bidi_audio_input (mono S16LE at the audio
 * context's rate, 20 ms a message), typed text as bidi_text_input, a
 * picture as bidi_image_input; the agent's bidi_audio_stream chunks are
 * played back to back through Web Audio and all cut at once on
 * bidi_interruption (barge-in). Transcripts, errors and the connection state
 * are shown as they come.
 *
 * window.bidiStats holds counters of what the page did (for people and for
 * tests); every transcript line carries data-role and data-final.
 */

'use strict';

(function () {
  /* microphone audio per message */
  const CHUNK_MS = 20;
  /* first chunk of an answer, or after an underrun: start this far ahead */
  const PLAY_LEAD_S = 0.05;
  /* do not queue more than this on a slow socket: drop microphone audio */
  const MAX_BUFFERED_BYTES = 1 << 20;
  const MAX_IMAGE_BYTES = 8 << 20;
  const MAX_LINES = 300;
  /* a chunk whose peak is above this (-40 dBFS) counts as voiced */
  const VOICED_PEAK = 0.01;

  const stats = {
    connection: 'connecting',
    connectionId: null,
    microphone: 'stopped',
    eventsReceived: 0,
    eventTypes: {},
    audioChunksSent: 0,
    audioSecondsSent: 0,
    audioChunksDropped: 0,
    textsSent: 0,
    imagesSent: 0,
    audioChunksReceived: 0,
    audioSecondsReceived: 0,
    audioSecondsVoiced: 0,
    audioSecondsScheduled: 0,
    audioSecondsPlayed: 0,
    activeSources: 0,
    interruptions: 0,
    sourcesStoppedByInterruption: 0,
    lastInterruption: null,
    responses: 0,
    transcripts: 0,
    partialTranscripts: { user: 0, assistant: 0 },
    finalTranscripts: { user: 0, assistant: 0 },
    lastFinal: { user: null, assistant: null },
    toolUses: 0,
    usage: null,
    userState: null,
    agentState: null,
    latencies: 0,
    lastLatencyMs: null,
    errors: [],
  };
  window.bidiStats = stats;

  const el = {
    connection: document.getElementById('connection'),
    micState: document.getElementById('mic-state'),
    mic: document.getElementById('mic'),
    micLevel: document.getElementById('mic-level'),
    agentLevel: document.getElementById('agent-level'),
    playback: document.getElementById('playback'),
    agentState: document.getElementById('agent-state'),
    latency: document.getElementById('latency'),
    form: document.getElementById('text-form'),
    text: document.getElementById('text'),
    image: document.getElementById('image'),
    error: document.getElementById('error'),
    transcript: document.getElementById('transcript'),
  };

  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  /* ---------------------------------------------------------------------
   * Display
   * --------------------------------------------------------------------- */

  function setState(node, state, label) {
    node.dataset.state = state;
    node.textContent = label || state;
  }

  function setConnection(state, label) {
    stats.connection = state;
    setState(el.connection, state, label);
  }

  function setMicState(state, label) {
    stats.microphone = state;
    setState(el.micState, state, label);
    el.mic.setAttribute('aria-pressed', String(state === 'listening' ||
        state === 'connecting'));
    el.mic.textContent = state === 'listening' || state === 'connecting' ?
      'Stop microphone' : 'Start microphone';
  }

  function addLine(classes, text) {
    const li = document.createElement('li');

    li.className = classes;
    li.textContent = text;
    el.transcript.appendChild(li);
    while (el.transcript.childElementCount > MAX_LINES)
      el.transcript.removeChild(el.transcript.firstElementChild);
    li.scrollIntoView({ block: 'nearest' });
    return li;
  }

  function addNote(text, isError) {
    addLine(isError ? 'event error' : 'event', text);
  }

  function showError(message) {
    stats.errors.push(message);
    if (stats.errors.length > 50)
      stats.errors.shift();
    el.error.hidden = false;
    el.error.textContent = message;
    addNote(message, true);
  }

  /* ---------------------------------------------------------------------
   * Base64 and PCM
   * --------------------------------------------------------------------- */

  function bytesToBase64(bytes) {
    const step = 0x8000;
    let bin = '';

    for (let i = 0; i < bytes.length; i += step)
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + step));
    return btoa(bin);
  }

  function base64ToBytes(b64) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);

    for (let i = 0; i < bin.length; i++)
      bytes[i] = bin.charCodeAt(i);
    return bytes;
  }

  /* Int16Array of samples -> little-endian bytes */
  function s16leBytes(samples) {
    if (littleEndian)
      return new Uint8Array(samples.buffer, samples.byteOffset,
          samples.byteLength);

    const bytes = new Uint8Array(samples.length * 2);
    const view = new DataView(bytes.buffer);

    for (let i = 0; i < samples.length; i++)
      view.setInt16(i * 2, samples[i], true);
    return bytes;
  }

  /* ---------------------------------------------------------------------
   * Audio context: one for capture and playback
   * --------------------------------------------------------------------- */

  let ctx = null;
  let outGain = null;
  let analyser = null;
  let meterData = null;

  function audioContext() {
    if (!ctx) {
      ctx = new AudioContext();
      outGain = ctx.createGain();
      analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      meterData = new Float32Array(analyser.fftSize);
      outGain.connect(analyser);
      analyser.connect(ctx.destination);
    }
    return ctx;
  }

  /* browsers start audio only after a user gesture */
  function resumeAudio() {
    const c = audioContext();

    if (c.state === 'suspended')
      c.resume().catch(function (e) {
        showError('audio: ' + e.message);
      });
  }

  document.addEventListener('click', resumeAudio);
  document.addEventListener('keydown', resumeAudio);

  /* ---------------------------------------------------------------------
   * Playback of the agent's audio
   * --------------------------------------------------------------------- */

  /* source -> { start, duration } */
  const playing = new Map();
  /* when the last scheduled chunk ends, in context time */
  let playEnd = 0;
  /* audio of an interrupted answer still in flight is dropped */
  let interruptedResponse = null;

  function updatePlayback() {
    stats.activeSources = playing.size;
    if (playing.size > 0)
      setState(el.playback, 'playing');
    else
      setState(el.playback, 'idle');
  }

  function onSourceEnded(src) {
    const info = playing.get(src);

    if (!info)
      return;
    playing.delete(src);
    stats.audioSecondsPlayed += info.duration;
    updatePlayback();
  }

  function decodeAudio(ev) {
    const rate = ev.sample_rate;
    const channels = ev.channels;
    let bytesPerSample;

    if (ev.format === 'pcm' || ev.format === 'S16LE')
      bytesPerSample = 2;
    else if (ev.format === 'F32LE')
      bytesPerSample = 4;
    else
      throw new Error('unsupported audio format "' + ev.format + '"');
    if (!Number.isInteger(rate) || rate < 3000 || rate > 768000)
      throw new Error('unsupported sample rate ' + rate);
    if (!Number.isInteger(channels) || channels < 1 || channels > 8)
      throw new Error('unsupported channel count ' + channels);
    if (typeof ev.audio !== 'string')
      throw new Error('no audio');

    const bytes = base64ToBytes(ev.audio);
    const view = new DataView(bytes.buffer);
    const frames = Math.floor(bytes.length / bytesPerSample / channels);
    if (frames === 0)
      return null;

    const buf = audioContext().createBuffer(channels, frames, rate);
    let peak = 0;

    for (let c = 0; c < channels; c++) {
      const data = buf.getChannelData(c);

      for (let i = 0; i < frames; i++) {
        const off = (i * channels + c) * bytesPerSample;
        const v = bytesPerSample === 2 ? view.getInt16(off, true) / 32768 :
          view.getFloat32(off, true);

        data[i] = v;
        peak = Math.max(peak, Math.abs(v));
      }
    }
    return { buffer: buf, peak: peak };
  }

  function playAudio(ev) {
    let decoded;

    if (ev.response_id && ev.response_id === interruptedResponse)
      return;
    try {
      decoded = decodeAudio(ev);
    } catch (e) {
      showError('agent audio: ' + e.message);
      return;
    }
    if (!decoded)
      return;

    const c = audioContext();
    const buf = decoded.buffer;
    const src = c.createBufferSource();

    stats.audioChunksReceived++;
    stats.audioSecondsReceived += buf.duration;
    if (decoded.peak > VOICED_PEAK)
      stats.audioSecondsVoiced += buf.duration;

    src.buffer = buf;
    src.connect(outGain);
    if (playEnd < c.currentTime + 0.005)
      playEnd = c.currentTime + PLAY_LEAD_S;
    src.onended = function () {
      onSourceEnded(src);
    };
    src.start(playEnd);
    playing.set(src, { start: playEnd, duration: buf.duration });
    playEnd += buf.duration;
    stats.audioSecondsScheduled += buf.duration;
    updatePlayback();
  }

  /* Stops everything scheduled at once; returns how many sources it cut. */
  function stopPlayback() {
    const now = ctx ? ctx.currentTime : 0;
    const n = playing.size;

    playing.forEach(function (info, src) {
      src.onended = null;
      try {
        src.stop();
      } catch (e) {
        /* never started: nothing to stop */
      }
      src.disconnect();
      stats.audioSecondsPlayed +=
          Math.min(Math.max(now - info.start, 0), info.duration);
    });
    playing.clear();
    playEnd = 0;
    updatePlayback();
    return n;
  }

  /* ---------------------------------------------------------------------
   * Transcripts
   * --------------------------------------------------------------------- */

  /* the line being written, per role, and its text so far */
  const partial = { user: null, assistant: null };
  const partialText = { user: '', assistant: '' };
  /* the line of the answer being given, final or not */
  let answerLine = null;

  function transcriptLine(role) {
    let li = partial[role];

    if (!li) {
      li = addLine(role + ' partial', '');
      li.dataset.role = role;
      li.dataset.final = 'false';
      partial[role] = li;
      partialText[role] = '';
      if (role === 'assistant')
        answerLine = li;
    }
    return li;
  }

  function showTranscript(ev) {
    const role = ev.role === 'user' ? 'user' : 'assistant';
    const li = transcriptLine(role);

    stats.transcripts++;
    if (ev.is_final) {
      const text = ev.text || ev.current_transcript || partialText[role];

      li.textContent = text;
      li.classList.remove('partial');
      li.dataset.final = 'true';
      partial[role] = null;
      partialText[role] = '';
      stats.finalTranscripts[role]++;
      stats.lastFinal[role] = text;
    } else {
      if (typeof ev.current_transcript === 'string')
        partialText[role] = ev.current_transcript;
      else
        partialText[role] += ev.text || '';
      li.textContent = partialText[role];
      stats.partialTranscripts[role]++;
    }
  }

  /* an answer ended, maybe without a final transcript: close its line */
  function closeAssistantLine(interrupted) {
    const li = partial.assistant;

    if (interrupted && answerLine)
      answerLine.classList.add('interrupted');
    if (!li)
      return;
    li.classList.remove('partial');
    li.dataset.final = 'true';
    partial.assistant = null;
    partialText.assistant = '';
    if (!li.textContent)
      li.remove();
  }

  /* ---------------------------------------------------------------------
   * Events from the server
   * --------------------------------------------------------------------- */

  function onInterruption(ev) {
    const stopped = stopPlayback();

    interruptedResponse = ev.response_id || null;
    stats.interruptions++;
    stats.sourcesStoppedByInterruption += stopped;
    stats.lastInterruption = {
      reason: ev.reason || null,
      playedMs: typeof ev.played_ms === 'number' ? ev.played_ms : null,
      stoppedSources: stopped,
      activeSourcesAfter: playing.size,
    };
    closeAssistantLine(true);
    addNote('interrupted (' + (ev.reason || 'unknown') + ')' +
        (typeof ev.played_ms === 'number' ?
          ' after ' + ev.played_ms + ' ms of the answer' : ''));
  }

  function handleEvent(ev) {
    if (!ev || typeof ev !== 'object' || typeof ev.type !== 'string') {
      showError('server sent an event without a type');
      return;
    }
    stats.eventsReceived++;
    stats.eventTypes[ev.type] = (stats.eventTypes[ev.type] || 0) + 1;

    switch (ev.type) {
      case 'bidi_audio_stream':
        playAudio(ev);
        break;
      case 'bidi_transcript_stream':
        showTranscript(ev);
        break;
      case 'bidi_interruption':
        onInterruption(ev);
        break;
      case 'bidi_response_start':
        stats.responses++;
        answerLine = null;
        if (ev.response_id !== interruptedResponse)
          interruptedResponse = null;
        break;
      case 'bidi_response_complete':
        closeAssistantLine(ev.stop_reason === 'interrupted');
        break;
      case 'bidi_connection_start':
        stats.connectionId = ev.connection_id || null;
        addNote('connected' + (ev.model ? ' to ' + ev.model : ''));
        break;
      case 'bidi_connection_restart':
        addNote('reconnecting (' + ev.reason + ')');
        break;
      case 'bidi_connection_close':
        addNote('conversation closed (' + ev.reason + ')');
        break;
      case 'bidi_user_state':
        stats.userState = ev.state;
        break;
      case 'bidi_agent_state':
        stats.agentState = ev.state;
        setState(el.agentState, ev.state);
        break;
      case 'bidi_turn_latency':
        /* the server's figure: from the end of the user's speech to the
         * answer's first sample leaving the agent (before the network and
         * this page's playback) */
        stats.latencies++;
        if (typeof ev.speech_end_to_first_push_ms === 'number') {
          stats.lastLatencyMs = ev.speech_end_to_first_push_ms;
          el.latency.textContent = ev.speech_end_to_first_push_ms + ' ms';
        }
        break;
      case 'bidi_usage':
        stats.usage = {
          input: ev.inputTokens,
          output: ev.outputTokens,
          total: ev.totalTokens,
        };
        break;
      case 'bidi_error':
        showError('error' + (ev.code ? ' (' + ev.code + ')' : '') + ': ' +
            ev.message);
        break;
      case 'tool_use_stream':
        stats.toolUses++;
        addNote('tool ' + ev.name + ' ' + JSON.stringify(ev.input));
        break;
      case 'tool_result':
        addNote('tool result (' + ev.status + ') ' +
            JSON.stringify(ev.content));
        break;
      case 'tool_cancel':
        addNote('tool call ' + ev.toolUseId + ' withdrawn');
        break;
      default:
        /* newer servers may send more: not an error */
        break;
    }
  }

  /* ---------------------------------------------------------------------
   * WebSocket
   * --------------------------------------------------------------------- */

  let ws = null;

  function send(obj) {
    if (!ws || ws.readyState !== WebSocket.OPEN)
      return false;
    ws.send(JSON.stringify(obj));
    return true;
  }

  function connect() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') +
        location.host + '/text-chat';

    setConnection('connecting');
    try {
      ws = new WebSocket(url);
    } catch (e) {
      setConnection('error');
      showError('cannot connect to ' + url + ': ' + e.message);
      return;
    }
    ws.onopen = function () {
      setConnection('open', 'connected');
    };
    ws.onmessage = function (msg) {
      let ev;

      if (typeof msg.data !== 'string') {
        showError('server sent a binary message');
        return;
      }
      try {
        ev = JSON.parse(msg.data);
      } catch (e) {
        showError('server sent bad JSON: ' + e.message);
        return;
      }
      handleEvent(ev);
    };
    ws.onclose = function (e) {
      const was = stats.connection;

      ws = null;
      setConnection('closed', 'closed (reload the page to reconnect)');
      if (was === 'connecting')
        showError('could not connect to ' + url);
      else if (e.code !== 1000)
        showError('connection lost (' + e.code +
            (e.reason ? ': ' + e.reason : '') + ')');
      stopMic();
    };
  }

  /* ---------------------------------------------------------------------
   * Microphone
   * --------------------------------------------------------------------- */

  /* The capture worklet: downmixes to mono, converts to S16 and posts
   * one buffer per chunk. Loaded from a blob: no extra file to serve. */
  const WORKLET_SOURCE = `
class BidiCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.frames = options.processorOptions.chunkFrames;
    this.buf = new Int16Array(this.frames);
    this.fill = 0;
    this.running = true;
    this.port.onmessage = (e) => {
      if (e.data === 'stop')
        this.running = false;
    };
  }

  process(inputs) {
    const input = inputs[0];

    if (input && input.length > 0) {
      const channels = input.length;
      const n = input[0].length;

      for (let i = 0; i < n; i++) {
        let v = 0;

        for (let c = 0; c < channels; c++)
          v += input[c][i];
        v = Math.max(-1, Math.min(1, v / channels));
        this.buf[this.fill++] = Math.round(v < 0 ? v * 32768 : v * 32767);
        if (this.fill === this.frames) {
          this.port.postMessage(this.buf, [this.buf.buffer]);
          this.buf = new Int16Array(this.frames);
          this.fill = 0;
        }
      }
    }
    return this.running;
  }
}
registerProcessor('bidi-capture', BidiCapture);
`;

  let workletLoaded = null;
  /* { stream, source, node, sink } while the microphone runs */
  let mic = null;
  /* bumped by every start and stop: a start that finishes late knows */
  let micGeneration = 0;
  let micPeak = 0;

  function loadWorklet(c) {
    if (!workletLoaded) {
      const url = URL.createObjectURL(new Blob([WORKLET_SOURCE],
            { type: 'text/javascript' }));

      workletLoaded = c.audioWorklet.addModule(url).finally(function () {
        URL.revokeObjectURL(url);
      });
    }
    return workletLoaded;
  }

  function sendAudio(samples, rate) {
    for (let i = 0; i < samples.length; i++)
      micPeak = Math.max(micPeak, Math.abs(samples[i]) / 32768);
    if (!ws || ws.readyState !== WebSocket.OPEN ||
        ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      stats.audioChunksDropped++;
      return;
    }
    send({
      type: 'bidi_audio_input',
      audio: bytesToBase64(s16leBytes(samples)),
      format: 'pcm',
      sample_rate: rate,
      channels: 1,
    });
    stats.audioChunksSent++;
    stats.audioSecondsSent += samples.length / rate;
  }

  /* ScriptProcessor: where AudioWorklet is missing */
  function scriptProcessorNode(c, chunkFrames) {
    const node = c.createScriptProcessor(1024, 2, 1);
    let buf = new Int16Array(chunkFrames);
    let fill = 0;

    node.onaudioprocess = function (e) {
      const input = e.inputBuffer;
      const channels = input.numberOfChannels;
      const data = [];

      for (let ch = 0; ch < channels; ch++)
        data.push(input.getChannelData(ch));
      for (let i = 0; i < input.length; i++) {
        let v = 0;

        for (let ch = 0; ch < channels; ch++)
          v += data[ch][i];
        v = Math.max(-1, Math.min(1, v / channels));
        buf[fill++] = Math.round(v < 0 ? v * 32768 : v * 32767);
        if (fill === chunkFrames) {
          sendAudio(buf, c.sampleRate);
          buf = new Int16Array(chunkFrames);
          fill = 0;
        }
      }
    };
    return node;
  }

  async function startMic() {
    const gen = ++micGeneration;
    const c = audioContext();
    let stream;

    setMicState('connecting');
    resumeAudio();
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
        throw new Error('this page needs a secure context (https or ' +
            'localhost) to use the microphone');
      stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          echoCancellation: true,
          noiseSuppression: false,
          autoGainControl: false,
        },
      });
    } catch (e) {
      if (gen === micGeneration) {
        setMicState('error');
        showError('microphone: ' + e.message);
      }
      return;
    }
    if (gen !== micGeneration) {
      /* stopped while asking */
      stream.getTracks().forEach(function (t) {
        t.stop();
      });
      return;
    }

    const chunkFrames = Math.round(c.sampleRate * CHUNK_MS / 1000);
    const source = c.createMediaStreamSource(stream);
    let node = null;

    if (c.audioWorklet) {
      try {
        await loadWorklet(c);
        node = new AudioWorkletNode(c, 'bidi-capture', {
          numberOfInputs: 1,
          numberOfOutputs: 1,
          outputChannelCount: [1],
          processorOptions: { chunkFrames: chunkFrames },
        });
        node.port.onmessage = function (e) {
          sendAudio(e.data, c.sampleRate);
        };
      } catch (e) {
        addNote('AudioWorklet unavailable (' + e.message +
            '): using ScriptProcessor');
        node = null;
      }
    }
    if (gen !== micGeneration) {
      stream.getTracks().forEach(function (t) {
        t.stop();
      });
      return;
    }
    if (!node)
      node = scriptProcessorNode(c, chunkFrames);

    /* the graph must reach the destination to be pulled: silently */
    const sink = c.createGain();
    sink.gain.value = 0;
    source.connect(node);
    node.connect(sink);
    sink.connect(c.destination);

    mic = { stream: stream, source: source, node: node, sink: sink };
    stream.getAudioTracks().forEach(function (t) {
      t.onended = function () {
        if (mic && mic.stream === stream) {
          stopMic();
          setMicState('error', 'error (the microphone went away)');
        }
      };
    });
    setMicState('listening');
  }

  function stopMic() {
    micGeneration++;
    if (mic) {
      if (mic.node.port)
        mic.node.port.postMessage('stop');
      mic.source.disconnect();
      mic.node.disconnect();
      mic.sink.disconnect();
      mic.stream.getTracks().forEach(function (t) {
        t.stop();
      });
      mic = null;
    }
    micPeak = 0;
    if (stats.microphone !== 'error')
      setMicState('stopped');
  }

  el.mic.addEventListener('click', function () {
    if (stats.microphone === 'listening' || stats.microphone === 'connecting')
      stopMic();
    else
      startMic();
  });

  /* ---------------------------------------------------------------------
   * Typed text and pictures
   * --------------------------------------------------------------------- */

  el.form.addEventListener('submit', function (e) {
    const text = el.text.value.trim();

    e.preventDefault();
    if (!text)
      return;
    if (!send({ type: 'bidi_text_input', text: text, role: 'user' })) {
      showError('not connected: the message was not sent');
      return;
    }
    stats.textsSent++;
    const li = addLine('user typed', text);
    li.dataset.role = 'user';
    li.dataset.final = 'true';
    li.dataset.typed = 'true';
    el.text.value = '';
  });

  el.image.addEventListener('change', function () {
    const file = el.image.files[0];

    el.image.value = '';
    if (!file)
      return;
    if (!/^image\//.test(file.type)) {
      showError(file.name + ' is not a picture');
      return;
    }
    if (file.size > MAX_IMAGE_BYTES) {
      showError(file.name + ' is too large (at most ' +
          (MAX_IMAGE_BYTES >> 20) + ' MiB)');
      return;
    }
    file.arrayBuffer().then(function (data) {
      if (!send({
            type: 'bidi_image_input',
            image: bytesToBase64(new Uint8Array(data)),
            mime_type: file.type,
          })) {
        showError('not connected: the picture was not sent');
        return;
      }
      stats.imagesSent++;
      addNote('picture sent: ' + file.name);
    }, function (err) {
      showError('cannot read ' + file.name + ': ' + err.message);
    });
  });

  /* ---------------------------------------------------------------------
   * Level meters
   * --------------------------------------------------------------------- */

  setInterval(function () {
    let peak = 0;

    if (analyser && playing.size > 0) {
      analyser.getFloatTimeDomainData(meterData);
      for (let i = 0; i < meterData.length; i++)
        peak = Math.max(peak, Math.abs(meterData[i]));
    }
    el.agentLevel.style.width = Math.min(100, peak * 100) + '%';
    el.micLevel.style.width = Math.min(100, micPeak * 100) + '%';
    micPeak *= 0.5;
  }, 100);

  window.bidiApp = {
    /* what the WebSocket does with every event: for consoles and tests */
    handleEvent: handleEvent,
    stopPlayback: stopPlayback,
  };

  setMicState('stopped');
  connect();
})();
