// Search through OpenSearch (GeoJSON): by the current view or a drawn box,
// within the time window; results listed with small WMS previews, their
// footprints on the map; a click zooms to a product and highlights it.
import GeoJSON from 'ol/format/GeoJSON.js';
import Draw, {createBox} from 'ol/interaction/Draw.js';
import VectorLayer from 'ol/layer/Vector.js';
import {transformExtent} from 'ol/proj.js';
import VectorSource from 'ol/source/Vector.js';
import {Fill, Stroke, Style} from 'ol/style.js';
import {withParams} from './services.js';
import {iso} from './time.js';

const footprint = new Style({stroke: new Stroke({color: '#e07000', width: 1.5}), fill: new Fill({color: 'rgba(224,112,0,0.04)'})});
const highlighted = new Style({stroke: new Stroke({color: '#ffd400', width: 3.5}), fill: new Fill({color: 'rgba(255,212,0,0.06)'}), zIndex: 1});
const boxStyle = new Style({stroke: new Stroke({color: '#1a5fb4', width: 2, lineDash: [6, 4]}), fill: new Fill({color: 'rgba(26,95,180,0.06)'})});

/** The lon/lat box of a map extent, clipped to the world. */
function lonLatBox(extent) {
  const [w, s, e, n] = transformExtent(extent, 'EPSG:3857', 'EPSG:4326');
  const r = (v) => Math.round(v * 1e6) / 1e6;
  return [r(Math.max(-180, w)), r(Math.max(-90, s)), r(Math.min(180, e)), r(Math.min(90, n))];
}

/**
 * A small preview: the product's WMS GetMap link at most size pixels wide
 * or high.
 * @param {string} href
 * @param {number} size
 */
export function previewURL(href, size) {
  const u = new URL(href, location.href);
  const get = (k) => Number([...u.searchParams.entries()].find(([n]) => n.toUpperCase() === k)?.[1] || 0);
  const w = get('WIDTH') || size;
  const h = get('HEIGHT') || size;
  const scale = size / Math.max(w, h);
  return withParams(href, {WIDTH: Math.max(1, Math.round(w * scale)), HEIGHT: Math.max(1, Math.round(h * scale))});
}

export class Search {
  /**
   * @param {Object} options
   * @param {import('ol/Map.js').default} options.map
   * @param {import('./services.js').OpenSearch} options.opensearch
   * @param {import('./time.js').TimeControl} [options.time]
   * @param {function(Object): void} options.onSelect called with the selected product (a GeoJSON feature)
   */
  constructor({map, opensearch, time, onSelect}) {
    this.map = map;
    this.opensearch = opensearch;
    this.time = time;
    this.onSelect = onSelect;
    this.format = new GeoJSON({featureProjection: 'EPSG:3857'});
    this.source = new VectorSource();
    this.layer = new VectorLayer({
      source: this.source,
      style: (f) => (f.get('selected') ? highlighted : footprint),
      properties: {name: 'footprints'},
      zIndex: 10,
    });
    this.boxSource = new VectorSource();
    map.addLayer(new VectorLayer({source: this.boxSource, style: boxStyle, properties: {name: 'search box'}, zIndex: 9}));
    map.addLayer(this.layer);
    this.box = null;
    this.draw = null;
    this.drawn = 0;
    this.products = new Map();
    this.next = null;
    this.list = document.getElementById('results');
    this.count = document.getElementById('search-count');
    this.more = document.getElementById('more-button');
    document.getElementById('search-button').addEventListener('click', () => this.run());
    document.getElementById('clear-button').addEventListener('click', () => this.clear());
    document.getElementById('draw-box').addEventListener('click', () => this.startDrawing());
    this.more.addEventListener('click', () => this.page(this.next, true));
    if (!time) {
      const use = /** @type {HTMLInputElement} */ (document.getElementById('use-time'));
      use.checked = false;
      use.disabled = true;
    }
  }

  /**
   * Whether a box is being drawn: map clicks then belong to it, also the
   * last one, whose singleclick comes after the drawing ended.
   */
  drawing() {
    return this.draw !== null || Date.now() - this.drawn < 600;
  }

  startDrawing() {
    if (this.draw) {
      return;
    }
    this.draw = new Draw({type: 'Circle', geometryFunction: createBox(), source: this.boxSource});
    this.boxSource.clear();
    this.draw.on('drawend', (e) => {
      this.box = e.feature.getGeometry().getExtent();
      this.drawn = Date.now();
      /** @type {HTMLInputElement} */ (document.querySelector('input[name=area][value=box]')).checked = true;
      // After this click: the map's singleclick must not see it.
      setTimeout(() => {
        this.map.removeInteraction(this.draw);
        this.draw = null;
        document.getElementById('draw-box').classList.remove('active');
      });
    });
    this.map.addInteraction(this.draw);
    document.getElementById('draw-box').classList.add('active');
  }

  /** The search's parameters, from the form. */
  values() {
    const area = /** @type {HTMLInputElement} */ (document.querySelector('input[name=area]:checked')).value;
    let extent;
    if (area === 'box') {
      if (!this.box) {
        throw new Error('draw a box on the map first');
      }
      extent = this.box;
    } else {
      extent = this.map.getView().calculateExtent(this.map.getSize());
    }
    const values = {'geo:box': lonLatBox(extent).join(','), count: 20, startIndex: 1};
    if (this.time && /** @type {HTMLInputElement} */ (document.getElementById('use-time')).checked) {
      const [s, e] = this.time.window();
      values['time:start'] = iso(s);
      values['time:end'] = iso(e);
    }
    return values;
  }

  /** Runs the search of the form; resolves when the results are listed. */
  async run() {
    let values;
    try {
      values = this.values();
    } catch (e) {
      this.count.textContent = e.message;
      return;
    }
    await this.page(this.opensearch.url(values), false);
  }

  clear() {
    this.source.clear();
    this.boxSource.clear();
    this.box = null;
    this.products.clear();
    this.list.replaceChildren();
    this.count.textContent = '';
    this.more.hidden = true;
    /** @type {HTMLInputElement} */ (document.querySelector('input[name=area][value=view]')).checked = true;
  }

  /**
   * Loads one page of results.
   * @param {string} url
   * @param {boolean} append
   */
  async page(url, append) {
    this.count.textContent = 'searching…';
    let fc;
    try {
      const response = await fetch(url);
      fc = await response.json();
      if (!response.ok) {
        throw new Error((fc.error && fc.error.message) || `HTTP ${response.status}`);
      }
    } catch (e) {
      this.count.textContent = `search failed: ${e.message}`;
      return;
    }
    if (!append) {
      this.source.clear();
      this.products.clear();
      this.list.replaceChildren();
    }
    for (const f of fc.features) {
      this.products.set(f.id, f);
      if (f.geometry) {
        const feature = this.format.readFeature(f);
        feature.setId(f.id);
        this.source.addFeature(feature);
      }
      this.list.append(this.item(f));
    }
    const links = fc.properties && fc.properties.links;
    this.next = links && links.next ? links.next[0].href : null;
    this.more.hidden = !this.next;
    this.count.textContent = `${this.products.size} of ${fc.totalResults} product${fc.totalResults === 1 ? '' : 's'}`;
  }

  /** A result: preview, identifier, time and type. */
  item(f) {
    const p = f.properties;
    const li = document.createElement('li');
    li.dataset.id = f.id;
    li.tabIndex = 0;
    const alt = p.links && p.links.alternates && p.links.alternates[0];
    const img = document.createElement('img');
    img.className = 'thumb';
    img.alt = '';
    img.loading = 'lazy';
    if (alt) {
      img.src = previewURL(alt.href, 64);
    }
    const text = document.createElement('div');
    const id = document.createElement('strong');
    id.textContent = f.id;
    const when = document.createElement('small');
    when.textContent = String(p.date).split('/')[0].replace('T', ' ').replace('Z', ' UTC');
    const type = document.createElement('small');
    type.textContent = [p.productType, p.platform].filter(Boolean).join(' · ');
    text.append(id, when, type);
    li.append(img, text);
    li.addEventListener('click', () => this.select(f.id));
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        this.select(f.id);
      }
    });
    return li;
  }

  /**
   * Highlights a product, zooms to it and hands it on.
   * @param {string} id
   */
  select(id) {
    for (const feature of this.source.getFeatures()) {
      feature.set('selected', feature.getId() === id);
    }
    for (const li of this.list.children) {
      li.classList.toggle('selected', /** @type {HTMLElement} */ (li).dataset.id === id);
    }
    const feature = this.source.getFeatureById(id);
    if (feature) {
      this.map.getView().fit(feature.getGeometry().getExtent(), {padding: [60, 60, 60, 60], duration: 300, maxZoom: 16});
    }
    const product = this.products.get(id);
    if (product) {
      this.onSelect(product);
    }
  }
}
