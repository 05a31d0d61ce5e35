// Live logs: server-sent events from /ui/logs/APP (bridged from the API's websocket), with
// source and process filters, pause and auto-scroll.
import { $, appName, h, say } from './dom.js';

const LINE = /^(\S+) ([a-z]+)\[([^\]]+)\]: ?(.*)$/;
const MAX_LINES = 2000;

export const logs = {
  source: null,
  started: false,
  paused: false,
  held: [],
  start() {
    if (this.started) return;
    this.started = true;
    const form = $('#log-filters');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.connect();
    });
    $('#log-pause').addEventListener('click', (e) => {
      this.paused = !this.paused;
      e.currentTarget.setAttribute('aria-pressed', String(this.paused));
      e.currentTarget.textContent = this.paused ? 'Resume' : 'Pause';
      if (!this.paused) {
        for (const line of this.held.splice(0)) this.append(line);
      }
      this.status(this.paused ? `Paused; ${this.held.length} new lines held.` : 'Streaming.');
    });
    $('#log-clear').addEventListener('click', () => $('#log').replaceChildren());
    this.connect();
  },
  status(text, kind = 'ok') {
    say($('#log-status'), text, kind);
  },
  connect() {
    this.source?.close();
    $('#log').replaceChildren();
    this.held = [];
    const q = new URLSearchParams();
    const source = $('#log-source').value;
    const ps = $('#log-ps').value.trim();
    if (source) q.set('source', source);
    if (ps) q.set('ps', ps);
    this.filter = { source, ps };
    this.status('Connecting…', 'pending');
    const es = new EventSource(`/ui/logs/${encodeURIComponent(appName)}?${q}`);
    this.source = es;
    es.addEventListener('open', () => this.status(this.paused ? 'Paused.' : 'Streaming.'));
    // One event carries a batch of lines, one per line of its data.
    es.addEventListener('message', (e) => {
      const lines = e.data.split('\n');
      if (this.paused) {
        this.held.push(...lines);
        if (this.held.length > MAX_LINES) this.held.splice(0, this.held.length - MAX_LINES);
        this.status(`Paused; ${this.held.length} new lines held.`);
      } else for (const line of lines) this.append(line);
    });
    es.addEventListener('failed', (e) => {
      es.close();
      this.status(`Live logs unavailable: ${e.data}`, 'error');
    });
    es.addEventListener('notice', (e) => this.append(`(${e.data})`));
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) this.status('Lost the log stream. Press Apply to reconnect.', 'error');
      else this.status('Reconnecting…', 'pending');
    };
  },
  append(text) {
    const m = LINE.exec(text);
    const { source, ps } = this.filter;
    // The stream filters too; this keeps the view right if a line slips through.
    if (m && source && m[2] !== source) return;
    if (m && ps && m[3] !== ps && !m[3].startsWith(`${ps}.`)) return;
    const pre = $('#log');
    const line = m
      ? h('span', { class: `line src-${m[2]}` }, h('span', { class: 'ts' }, m[1]), ' ', h('span', { class: 'who' }, `${m[2]}[${m[3]}]:`), ` ${m[4]}\n`)
      : h('span', { class: 'line' }, `${text}\n`);
    pre.append(line);
    while (pre.childNodes.length > MAX_LINES) pre.firstChild.remove();
    if ($('#log-autoscroll').checked) pre.scrollTop = pre.scrollHeight;
  },
};
