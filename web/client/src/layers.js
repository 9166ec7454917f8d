// The collection's layers, from the WMTS capabilities (tiles from the
// cache) and the WMS capabilities (maps from the renderer), with a switcher:
// visibility, opacity and the service each is drawn from.
import ImageLayer from 'ol/layer/Image.js';
import TileLayer from 'ol/layer/Tile.js';
import ImageWMS from 'ol/source/ImageWMS.js';
import WMTS, {optionsFromCapabilities} from 'ol/source/WMTS.js';
import {iso} from './time.js';

/**
 * What kind of layer a name is: "outlines" (footprints), "outlined"
 * (browse and footprints) or "browse".
 * @param {string} collection
 * @param {string} name
 */
export function kindOf(collection, name) {
  if (name === `${collection}__outlines`) {
    return 'outlines';
  }
  if (name === `${collection}__outlined`) {
    return 'outlined';
  }
  return 'browse';
}

/** Order in the switcher: the default browse, the others, then outlines. */
function rank(collection, name) {
  const kind = kindOf(collection, name);
  return name === collection ? 0 : kind === 'browse' ? 1 : kind === 'outlined' ? 2 : 3;
}

/**
 * One layer of the collection, drawn from the WMTS or the WMS.
 */
export class Entry {
  constructor({name, title, wmtsOptions, wms, legend, stats}) {
    this.name = name;
    this.title = title;
    this.kind = null;
    this.legend = legend;
    this.visible = false;
    this.opacity = 1;
    this.tiled = null;
    this.image = null;
    this.timeKey = null;
    if (wmtsOptions) {
      // The ResourceURL names the dimension {Time}, the capabilities
      // "time": OpenLayers fills a template's names as the dimension
      // object spells them.
      // With KVP, the dimension is a parameter of the capabilities' name.
      const m = wmtsOptions.urls && wmtsOptions.urls[0].match(/\{(time)\}/i);
      const named = Object.keys(wmtsOptions.dimensions || {}).find((k) => k.toLowerCase() === 'time');
      this.timeKey = m ? m[1] : named || null;
      const dimensions = {};
      for (const [k, v] of Object.entries(wmtsOptions.dimensions || {})) {
        dimensions[k === named && this.timeKey ? this.timeKey : k] = v;
      }
      const source = new WMTS({...wmtsOptions, dimensions, crossOrigin: 'anonymous', wrapX: false, transition: 0});
      watch(source, stats);
      this.tiled = new TileLayer({source, visible: false, properties: {name, service: 'WMTS'}});
    }
    if (wms) {
      const source = new ImageWMS({
        url: wms,
        params: {LAYERS: name, STYLES: '', FORMAT: 'image/png', TRANSPARENT: true},
        ratio: 1,
        crossOrigin: 'anonymous',
      });
      watch(source, stats);
      this.image = new ImageLayer({source, visible: false, properties: {name, service: 'WMS'}});
    }
    this.service = this.tiled ? 'WMTS' : 'WMS';
  }

  /** The OpenLayers layers of the entry (one per service). */
  olLayers() {
    return [this.tiled, this.image].filter(Boolean);
  }

  /** The layer drawn now. */
  active() {
    return this.service === 'WMTS' ? this.tiled : this.image;
  }

  update() {
    for (const l of this.olLayers()) {
      l.setVisible(this.visible && l === this.active());
      l.setOpacity(this.opacity);
    }
  }

  /**
   * Shows the products of a time window.
   * @param {Array<number>} window [start, end] in ms
   */
  setTime([start, end]) {
    if (this.tiled && this.timeKey) {
      this.tiled.getSource().updateDimensions({[this.timeKey]: `${iso(start)}--${iso(end)}`});
    }
    if (this.image) {
      this.image.getSource().updateParams({TIME: `${iso(start)}/${iso(end)}`});
    }
  }
}

/** Counts the tiles and images a source loads and fails to load. */
function watch(source, stats) {
  source.on(['tileloadend', 'imageloadend'], () => stats.loaded++);
  source.on(['tileloaderror', 'imageloaderror'], (e) => {
    stats.failed++;
    const tile = e.tile || e.image;
    console.warn('a tile or map did not load', tile && tile.getKey ? tile.getKey() : '');
  });
}

/**
 * The entries of the collection's layers, from whichever capabilities
 * loaded: WMTS first (cached tiles), WMS where the WMTS lacks a layer.
 * @param {Object} options
 * @param {string} options.collection
 * @param {?Object} options.wmtsCaps
 * @param {Array<Object>} options.wmsLayers named layers of the WMS capabilities
 * @param {string} options.wms the WMS GetMap URL
 * @param {{loaded: number, failed: number}} options.stats
 */
export function buildEntries({collection, wmtsCaps, wmsLayers, wms, stats}) {
  const byName = new Map();
  const ours = (name) => name === collection || name.startsWith(`${collection}__`);
  const wmtsNames = wmtsCaps ? wmtsCaps.Contents.Layer.map((l) => ({name: l.Identifier, title: l.Title})) : [];
  for (const l of [...wmtsNames, ...wmsLayers.map((w) => ({name: w.Name, title: w.Title}))]) {
    if (ours(l.name) && !byName.has(l.name)) {
      byName.set(l.name, l);
    }
  }
  const entries = [];
  for (const {name, title} of byName.values()) {
    let wmtsOptions = null;
    if (wmtsCaps && wmtsNames.some((l) => l.name === name)) {
      // RESTful tiles where offered: their URLs are what the cache and
      // any HTTP cache in front of it key on.
      for (const config of [
        {layer: name, matrixSet: 'GoogleMapsCompatible', requestEncoding: 'REST'},
        {layer: name, matrixSet: 'GoogleMapsCompatible'},
        {layer: name, projection: 'EPSG:3857'},
      ]) {
        wmtsOptions = wmtsOptions || optionsFromCapabilities(wmtsCaps, config);
      }
      // Every tile ResourceURL is a template: keep the PNG ones (JPEG has
      // no transparency), or the tiles alternate between the two.
      const png = wmtsOptions && wmtsOptions.requestEncoding === 'REST' ? wmtsOptions.urls.filter((u) => /\.png$/i.test(u)) : [];
      if (png.length) {
        wmtsOptions = {...wmtsOptions, urls: png, format: 'image/png'};
      }
    }
    const w = wmsLayers.find((l) => l.Name === name);
    const style = w && w.Style && w.Style[0];
    const legend = style && style.LegendURL && style.LegendURL[0] ? style.LegendURL[0].OnlineResource : null;
    const e = new Entry({name, title: title || name, wmtsOptions, wms: w ? wms : null, legend, stats});
    e.kind = kindOf(collection, name);
    // The browse or drawing, as the layer's name says after the collection.
    e.label = name === collection ? 'default browse' : name.startsWith(`${collection}__`) ? name.slice(collection.length + 2) : title || name;
    entries.push(e);
  }
  entries.sort((a, b) => rank(collection, a.name) - rank(collection, b.name) || a.name.localeCompare(b.name));
  return entries;
}

/**
 * The layer switcher: a checkbox, the service and an opacity slider per
 * layer, and the legend of a visible layer.
 * @param {HTMLElement} list
 * @param {Array<Entry>} entries
 */
export function switcher(list, entries) {
  list.replaceChildren();
  for (const e of entries) {
    const li = document.createElement('li');
    li.dataset.layer = e.name;
    const check = document.createElement('input');
    check.type = 'checkbox';
    check.checked = e.visible;
    check.id = `layer-${e.name}`;
    const name = document.createElement('label');
    name.htmlFor = check.id;
    name.textContent = e.label;
    name.title = `${e.title} (${e.name})`;
    const service = document.createElement('select');
    service.className = 'service';
    service.title = 'drawn from';
    for (const s of ['WMTS', 'WMS']) {
      if ((s === 'WMTS' && e.tiled) || (s === 'WMS' && e.image)) {
        service.append(new Option(s, s, false, e.service === s));
      }
    }
    service.disabled = service.options.length < 2;
    const opacity = document.createElement('input');
    opacity.type = 'range';
    opacity.className = 'opacity';
    opacity.min = '0';
    opacity.max = '1';
    opacity.step = '0.05';
    opacity.value = String(e.opacity);
    opacity.title = 'opacity';
    const legend = document.createElement('details');
    legend.className = 'legend';
    legend.hidden = true;
    const summary = document.createElement('summary');
    summary.textContent = 'legend';
    const legendImg = document.createElement('img');
    legendImg.alt = `legend of ${e.name}`;
    legend.append(summary, legendImg);
    // Fetched when first opened.
    legend.addEventListener('toggle', () => {
      if (legend.open && !legendImg.src) {
        legendImg.src = e.legend;
      }
    });
    const show = () => {
      e.update();
      li.classList.toggle('on', e.visible);
      legend.hidden = !e.visible || !e.legend || e.kind === 'outlines';
    };
    check.addEventListener('change', () => {
      e.visible = check.checked;
      show();
    });
    service.addEventListener('change', () => {
      e.service = service.value;
      show();
    });
    opacity.addEventListener('input', () => {
      e.opacity = Number(opacity.value);
      show();
    });
    e.sync = () => {
      check.checked = e.visible;
      service.value = e.service;
      show();
    };
    const row = document.createElement('div');
    row.className = 'row';
    row.append(check, name, opacity, service);
    li.append(row, legend);
    list.append(li);
    show();
  }
}
