// The studio page: choose sounds, render a pack, play it with Web Audio.
// No build step: plain ES2020 served as it is.
'use strict';

const $ = (id) => document.getElementById(id);
const POLL_MS = 250;
const KEYBOARD_LOW = 48;  // C3 to C5 on screen
const KEYBOARD_HIGH = 72;
const WHITE_REM = 2;
// Computer keys from C: semitones above the keyboard's octave.
const COMPUTER_KEYS = {a: 0, w: 1, s: 2, e: 3, d: 4, f: 5, t: 6, g: 7, y: 8,
                       h: 9, u: 10, j: 11, k: 12};

const state = {
  sources: [], chosen: [], pack: null, buffers: {}, x: 0.5, y: 0.5,
  octave: 60, audio: null,
  loads: 0,  // loadPack calls so far: only the latest one's pack is kept
  retry: null,  // the timer of loadPacks' next try while there is no pack
  job: null,  // the id of the render this page is waiting for
};

async function api(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.detail || `${response.status} ${response.statusText}`);
  }
  return body;
}

function showMessage(element, text, isError) {
  element.textContent = text;
  element.classList.toggle('error', Boolean(isError));
}

// Sounds.

async function loadSources() {
  state.sources = await api('/api/sources');
  const known = new Set(state.sources.map((source) => source.id));
  state.chosen = state.chosen.filter((id) => known.has(id));
  const list = $('sources');
  list.replaceChildren(...state.sources.map((source) => {
    const item = document.createElement('li');
    item.dataset.id = source.id;
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = source.id;
    box.addEventListener('change', () => choose(source.id, box.checked));
    const order = document.createElement('span');
    order.className = 'order';
    label.append(box, ` ${source.name} `, order);
    const plot = document.createElement('img');
    plot.alt = `waveform and code of ${source.name}`;
    plot.loading = 'lazy';
    plot.src = `/api/sources/${encodeURIComponent(source.id)}/plot.png`;
    item.append(label, plot);
    return item;
  }));
  showChosen();
}

function choose(id, on) {
  state.chosen = state.chosen.filter((other) => other !== id);
  if (on) state.chosen.push(id);
  showChosen();
}

function showChosen() {
  for (const item of $('sources').children) {
    const index = state.chosen.indexOf(item.dataset.id);
    item.classList.toggle('chosen', index >= 0);
    item.querySelector('input').checked = index >= 0;
    item.querySelector('.order').textContent = index >= 0 ? `#${index + 1}` : '';
  }
}

async function upload(file) {
  const message = $('upload-message');
  showMessage(message, `checking ${file.name}...`, false);
  try {
    const added = await api(
        `/api/uploads?name=${encodeURIComponent(file.name)}`,
        {method: 'POST', body: file});
    showMessage(message, `added ${added.name}`, false);
    await loadSources();
  } catch (error) {
    showMessage(message, error.message, true);
  }
  $('upload').value = '';
}

// Rendering.

async function render(event) {
  event.preventDefault();
  const message = $('render-message');
  showMessage(message, '', false);
  const settings = {
    sources: state.chosen,
    points: Number($('points').value),
    pitches: $('pitches').value.split(/[\s,]+/).filter(Boolean),
    note_seconds: Number($('note-seconds').value),
    seed: Number($('seed').value),
    harmonic_filter_db: Number($('harmonic-filter-db').value),
    retry_off_pitch: $('retry-off-pitch').checked,
    expected_value: $('expected-value').checked,
  };
  try {
    let job = await api('/api/renders', {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(settings)});
    $('render').disabled = true;
    state.job = job.id;
    $('cancel').hidden = false;
    while (job.state === 'queued' || job.state === 'running') {
      showProgress(job);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      job = await api(`/api/renders/${job.id}`);
    }
    showProgress(job);
    if (job.state === 'failed') throw new Error(job.message);
    if (job.state === 'cancelled') {
      showMessage(message, `render ${job.message}`, false);
      return;
    }
    await loadPacks(job.pack);
  } catch (error) {
    showMessage(message, error.message, true);
  } finally {
    $('render').disabled = false;
    $('cancel').hidden = true;
    state.job = null;
  }
}

async function cancelRender() {
  if (!state.job) return;
  try {
    await api(`/api/renders/${state.job}`, {method: 'DELETE'});
  } catch (error) {
    showMessage($('render-message'), error.message, true);
  }
}

function duration(seconds) {
  return seconds < 90 ? `${Math.ceil(seconds)} s` :
      `${Math.round(seconds / 60)} min`;
}

function showProgress(job) {
  $('progress').value = job.progress;
  let text = `${Math.floor(job.progress * 100)}%`;
  if (job.state === 'queued') {
    text = 'queued behind another render';
    if (job.estimated_seconds !== null) {
      text += `; about ${duration(job.estimated_seconds)} once it starts`;
    }
  } else if (job.state === 'running') {
    const elapsed = Date.now() / 1000 - job.started_at;
    if (job.progress > 0.02) {
      text += `, about ${duration(elapsed * (1 - job.progress) /
                                  job.progress)} left`;
    } else if (job.estimated_seconds !== null) {
      text += `, about ${duration(job.estimated_seconds)} in all`;
    }
  }
  $('progress-text').textContent = text;
}

// Packs.

async function loadPacks(selected) {
  clearTimeout(state.retry);
  const packs = await api('/api/packs');
  const menu = $('pack');
  menu.replaceChildren(...packs.map((pack) => {
    const option = document.createElement('option');
    option.value = pack.id;
    const grid = pack.rows > 1 ? `${pack.rows} x ${pack.cols}` : `${pack.cols}`;
    const filter = pack.harmonic_filter_db ?
        `, harmonic filter ${pack.harmonic_filter_db} dB` : '';
    const retry = pack.retry_off_pitch ? ', retried off pitch' : '';
    const means = pack.expected_value ? ', expected values' : '';
    option.textContent = `${pack.sources.join(' / ')}: ${grid} points, ` +
        `pitches ${pack.pitches.join(',')}, ${pack.note_seconds} s` +
        `${filter}${retry}${means}`;
    return option;
  }));
  if (!packs.length) {
    // The default pack may be rendering.
    state.retry = setTimeout(() => loadPacks(), 3000);
    return;
  }
  menu.value = selected || packs[0].id;
  await loadPack(menu.value, packs.find((pack) => pack.id === menu.value));
}

async function loadPack(id, pack) {
  // The pack loaded before keeps playing until this one is decoded, and a
  // call overtaken by a later one (another choice, loadPacks' retry) keeps
  // nothing, so the keys never find the player empty or out of date.
  const load = ++state.loads;
  state.audio = state.audio || new AudioContext();
  $('player-status').textContent = 'loading the samples...';
  const decoded = await Promise.all(pack.samples.map(async (name) => {
    const response = await fetch(`/api/packs/${id}/samples/${name}`);
    return [name, await state.audio.decodeAudioData(
        await response.arrayBuffer())];
  }));
  if (load !== state.loads) return;
  state.buffers = Object.fromEntries(decoded);
  state.pack = pack;
  $('download').href = `/api/packs/${id}.zip`;
  const line = pack.rows === 1;
  $('pad').className = line ? 'line' : 'square';
  const corners = line ? [pack.sources[0], pack.sources[1], '', ''] :
      pack.sources;
  corners.forEach((name, index) => {
    $(`corner-${index}`).textContent = name;
  });
  if (line) state.y = 0;
  movePoint(state.x, state.y);
  $('player-status').textContent = `ready: ${pack.samples.length} samples`;
}

// Playing.

function nearestPitch(pitches, key) {
  // As the pack's SFZ: halfway between two pitches plays the lower one.
  let best = pitches[0];
  for (const pitch of pitches) {
    if (Math.abs(pitch - key) < Math.abs(best - key)) best = pitch;
  }
  return best;
}

function cellWeights(pack, x, y) {
  // Bilinear weights of the grid cells around the point, heaviest first.
  const across = x * (pack.cols - 1);
  const down = pack.rows > 1 ? y * (pack.rows - 1) : 0;
  const col = Math.min(Math.floor(across), pack.cols - 2);
  const row = Math.max(0, Math.min(Math.floor(down), pack.rows - 2));
  const fx = across - col;
  const fy = pack.rows > 1 ? down - row : 0;
  const cells = [];
  for (const [r, wy] of [[row, 1 - fy], [row + 1, fy]]) {
    for (const [c, wx] of [[col, 1 - fx], [col + 1, fx]]) {
      if (wy * wx > 1e-3) cells.push({row: r, col: c, weight: wy * wx});
    }
  }
  return cells.sort((a, b) => b.weight - a.weight);
}

function sampleName(row, col, pitch) {
  return `p${row}_${col}_m${String(pitch).padStart(3, '0')}`;
}

function play(key, velocity) {
  const pack = state.pack;
  if (!pack) return;
  state.audio.resume();
  const pitch = nearestPitch(pack.pitches, key);
  const semitones = key - pitch;
  const cells = cellWeights(pack, state.x, state.y);
  const start = state.audio.currentTime;
  for (const cell of cells) {
    const source = state.audio.createBufferSource();
    source.buffer = state.buffers[`${sampleName(cell.row, cell.col, pitch)}.wav`];
    source.playbackRate.value = 2 ** (semitones / 12);
    const gain = state.audio.createGain();
    gain.gain.value = cell.weight * velocity;
    source.connect(gain).connect(state.audio.destination);
    source.start(start);
  }
  const [main] = cells;
  const mix = cells.map((cell) =>
      `p${cell.row}_${cell.col} ${Math.round(cell.weight * 100)}%`).join(', ');
  const sign = semitones >= 0 ? '+' : '';
  $('played').textContent =
      `played ${sampleName(main.row, main.col, pitch)} ` +
      `(${sign}${semitones} semitones); mix: ${mix}`;
}

function movePoint(x, y) {
  state.x = Math.min(1, Math.max(0, x));
  state.y = Math.min(1, Math.max(0, y));
  const point = $('pad-point');
  point.style.left = `${state.x * 100}%`;
  point.style.top = `${(state.pack && state.pack.rows === 1 ? 0.5 : state.y) *
                       100}%`;
}

function padPointer(event) {
  const box = $('pad').getBoundingClientRect();
  movePoint((event.clientX - box.left) / box.width,
            (event.clientY - box.top) / box.height);
}

function buildKeyboard() {
  const keyboard = $('keyboard');
  let whites = 0;
  for (let midi = KEYBOARD_LOW; midi <= KEYBOARD_HIGH; midi++) {
    const black = [1, 3, 6, 8, 10].includes(midi % 12);
    const key = document.createElement('div');
    key.className = `key ${black ? 'black' : 'white'}`;
    key.dataset.midi = midi;
    key.style.left = `${black ? whites * WHITE_REM - 0.65 : whites * WHITE_REM}rem`;
    if (!black) whites++;
    key.addEventListener('pointerdown', () => {
      key.classList.add('down');
      play(midi, 1);
    });
    for (const type of ['pointerup', 'pointerleave']) {
      key.addEventListener(type, () => key.classList.remove('down'));
    }
    keyboard.append(key);
  }
}

function computerKey(event) {
  if (event.repeat || event.target.matches('input, select, textarea')) return;
  const key = event.key.toLowerCase();
  if (key === 'z' || key === 'x') {
    state.octave = Math.min(108, Math.max(12,
                                          state.octave + (key === 'z' ? -12 : 12)));
  } else if (key in COMPUTER_KEYS) {
    play(state.octave + COMPUTER_KEYS[key], 1);
  }
}

async function listenToMidi() {
  const status = $('midi-status');
  if (!navigator.requestMIDIAccess) {
    status.textContent = 'This browser has no Web MIDI.';
    return;
  }
  try {
    const access = await navigator.requestMIDIAccess();
    const listen = () => {
      for (const input of access.inputs.values()) {
        input.onmidimessage = ({data: [status, note, velocity]}) => {
          if ((status & 0xf0) === 0x90 && velocity > 0) play(note, velocity / 127);
        };
      }
      status.textContent = `MIDI inputs: ${access.inputs.size}.`;
    };
    access.onstatechange = listen;
    listen();
  } catch (error) {
    status.textContent = `No MIDI: ${error.message}`;
  }
}

function start() {
  buildKeyboard();
  $('upload').addEventListener('change', (event) => {
    if (event.target.files.length) upload(event.target.files[0]);
  });
  $('render-form').addEventListener('submit', render);
  $('cancel').addEventListener('click', cancelRender);
  $('pack').addEventListener('change', async (event) => {
    const packs = await api('/api/packs');
    await loadPack(event.target.value,
                   packs.find((pack) => pack.id === event.target.value));
  });
  const pad = $('pad');
  pad.addEventListener('pointerdown', (event) => {
    pad.setPointerCapture(event.pointerId);
    padPointer(event);
  });
  pad.addEventListener('pointermove', (event) => {
    if (event.buttons) padPointer(event);
  });
  document.addEventListener('keydown', computerKey);
  movePoint(state.x, state.y);
  api('/api/defaults').then((defaults) => {
    $('harmonic-filter-db').value = defaults.harmonic_filter_db;
    $('retry-off-pitch').checked = defaults.retry_off_pitch;
    $('expected-value').checked = defaults.expected_value;
  }).catch((error) => showMessage($('render-message'), error.message, true));
  loadSources().catch((error) =>
      showMessage($('upload-message'), error.message, true));
  loadPacks().catch((error) =>
      showMessage($('render-message'), error.message, true));
  listenToMidi();
}

start();
