// The time slider: a window over the collection's TIME extent, centred
// where the slider stands, with the products' acquisitions marked on it.

/**
 * An instant as the services write it (seconds, UTC).
 * @param {number} ms
 */
export function iso(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The start and end of a TIME dimension's value: an interval
 * (start/end[/resolution]) or a list of instants or intervals.
 * @param {string} value
 * @return {?Array<number>}
 */
export function parseExtent(value) {
  let start = Infinity;
  let end = -Infinity;
  for (const part of String(value || '').split(',')) {
    const [a, b] = part.trim().split('/');
    for (const s of [a, b]) {
      const t = Date.parse(s);
      if (s && !Number.isNaN(t)) {
        start = Math.min(start, t);
        end = Math.max(end, t);
      }
    }
  }
  return start <= end ? [start, end] : null;
}

const day = 86400000;

/** Human-readable UTC instant, to the minute. */
function label(ms) {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

export class TimeControl {
  /**
   * @param {Object} options
   * @param {Array<number>} options.extent the collection's [start, end] in ms
   * @param {Array<number>} options.acquisitions product times in ms, sorted
   * @param {function(Array<number>): void} options.onChange called with the new window
   */
  constructor({extent, acquisitions, onChange}) {
    this.extent = extent;
    this.acquisitions = acquisitions.filter((t) => t >= extent[0] && t <= extent[1]);
    this.onChange = onChange;
    this.slider = /** @type {HTMLInputElement} */ (document.getElementById('time-slider'));
    this.width = /** @type {HTMLSelectElement} */ (document.getElementById('time-width'));
    this.output = document.getElementById('time-label');
    this.span = Math.max(1, Math.round((extent[1] - extent[0]) / 1000)); // seconds
    this.slider.min = '0';
    this.slider.max = String(this.span);
    this.slider.step = '1';
    this.slider.value = String(this.span);
    this.timer = 0;
    this.drawTicks();
    this.slider.addEventListener('input', () => this.moved());
    this.width.addEventListener('change', () => this.changed());
    document.getElementById('time-prev').addEventListener('click', () => this.step(-1));
    document.getElementById('time-next').addEventListener('click', () => this.step(1));
    this.showLabel();
  }

  /** The instant the slider stands on, in ms. */
  centre() {
    return this.extent[0] + Number(this.slider.value) * 1000;
  }

  /**
   * The window shown: [start, end] in ms, within the extent.
   * @return {Array<number>}
   */
  window() {
    if (this.width.value === 'all') {
      return [...this.extent];
    }
    const half = Number(this.width.value) / 2;
    const c = this.centre();
    return [Math.max(this.extent[0], c - half), Math.min(this.extent[1], c + half)];
  }

  /** The window as a WMS TIME value. */
  wmsTime() {
    const [s, e] = this.window();
    return `${iso(s)}/${iso(e)}`;
  }

  /**
   * Moves the slider to an instant (and out of "whole collection", which
   * the slider does not move).
   * @param {number} ms
   */
  setCentre(ms) {
    this.slider.value = String(Math.round((ms - this.extent[0]) / 1000));
    if (this.width.value === 'all') {
      this.width.value = String(day);
    }
    this.changed(true);
  }

  drawTicks() {
    const ticks = document.getElementById('ticks');
    ticks.replaceChildren();
    for (const t of this.acquisitions) {
      const f = (t - this.extent[0]) / (this.extent[1] - this.extent[0] || 1);
      const tick = document.createElement('button');
      tick.type = 'button';
      tick.className = 'tick';
      tick.style.left = `calc(8px + (100% - 16px) * ${f})`;
      tick.title = `acquisition ${label(t)} UTC`;
      tick.addEventListener('click', () => this.setCentre(t));
      ticks.append(tick);
    }
  }

  /** The slider moved: snap to a close acquisition, narrow the window. */
  moved() {
    const v = Number(this.slider.value);
    let best = null;
    for (const t of this.acquisitions) {
      const s = (t - this.extent[0]) / 1000;
      if (Math.abs(s - v) <= this.span * 0.015 && (best === null || Math.abs(s - v) < Math.abs(best - v))) {
        best = s;
      }
    }
    if (best !== null) {
      this.slider.value = String(Math.round(best));
    }
    if (this.width.value === 'all') {
      this.width.value = String(day);
    }
    this.changed();
  }

  /**
   * Jumps to the previous or next acquisition.
   * @param {number} dir -1 or 1
   */
  step(dir) {
    const c = this.width.value === 'all' ? (dir > 0 ? -Infinity : Infinity) : this.centre();
    const list = dir > 0 ? this.acquisitions : [...this.acquisitions].reverse();
    const t = list.find((a) => (dir > 0 ? a > c + 500 : a < c - 500));
    if (t !== undefined) {
      this.setCentre(t);
    }
  }

  showLabel() {
    const [s, e] = this.window();
    const n = this.acquisitions.filter((t) => t >= s && t <= e).length;
    this.output.value = `${label(s)} – ${label(e)} UTC · ${n} acquisition${n === 1 ? '' : 's'}`;
    document.getElementById('time').classList.toggle('all', this.width.value === 'all');
  }

  /**
   * The window changed: the label at once, the layers after the slider
   * rests a moment (every step would reload every tile).
   * @param {boolean} [now]
   */
  changed(now) {
    this.showLabel();
    clearTimeout(this.timer);
    const apply = () => this.onChange(this.window());
    if (now) {
      apply();
    } else {
      this.timer = setTimeout(apply, 150);
    }
  }
}
