// The pvs web client: the collection's layers in time, search and product
// pages, on OpenLayers. It reads where the services are from config.json.
import 'ol/ol.css';
import './style.css';
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import {ScaleLine, defaults as defaultControls} from 'ol/control.js';
import {createEmpty, extend, isEmpty} from 'ol/extent.js';
import Graticule from 'ol/layer/Graticule.js';
import TileLayer from 'ol/layer/Tile.js';
import {fromLonLat, toLonLat, transformExtent} from 'ol/proj.js';
import XYZ from 'ol/source/XYZ.js';
import {Stroke} from 'ol/style.js';
import {FeatureInfo} from './info.js';
import {buildEntries, switcher} from './layers.js';
import {ProductPage} from './product.js';
import {Search} from './search.js';
import {OpenSearch, loadConfig, wmsCapabilities, wmsLayers, wmtsCapabilities} from './services.js';
import {TimeControl, parseExtent} from './time.js';

/**
 * What the page exposes for scripts and tests: readiness, the map, the
 * load counts of tiles and maps, the parts of the client.
 */
const pvs = {ready: false, error: null, stats: {loaded: 0, failed: 0}};
window.pvs = pvs;

function status(text, isError) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.classList.toggle('error', Boolean(isError));
}

/** Resolves after the next frame in which every source has loaded. */
pvs.rendered = () =>
  new Promise((resolve) => {
    pvs.map.once('rendercomplete', () => resolve(true));
    pvs.map.render();
  });

/** The backgrounds: a plain one with a graticule, or the configured XYZ. */
function backgrounds(map, cfg) {
  const graticule = new Graticule({
    strokeStyle: new Stroke({color: 'rgba(60,80,100,0.35)', width: 1, lineDash: [2, 4]}),
    showLabels: true,
    wrapX: false,
    properties: {name: 'graticule'},
  });
  const layers = [graticule];
  const choices = [['plain', 'plain background', null]];
  if (cfg.baseMap && cfg.baseMap.url) {
    const base = new TileLayer({
      source: new XYZ({
        url: cfg.baseMap.url,
        attributions: cfg.baseMap.attribution || undefined,
        maxZoom: cfg.baseMap.maxZoom || 19,
        crossOrigin: 'anonymous',
      }),
      properties: {name: 'base map'},
    });
    base.getSource().on('tileloaderror', () => console.warn('a base map tile did not load'));
    layers.unshift(base);
    choices.push(['xyz', 'base map', base]);
  }
  layers.forEach((l) => map.addLayer(l));
  const box = document.getElementById('background');
  const pick = (value) => {
    for (const [v, , layer] of choices) {
      if (layer) {
        layer.setVisible(v === value);
      }
    }
  };
  const initial = choices[choices.length - 1][0];
  for (const [value, text] of choices) {
    const label = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'background';
    radio.value = value;
    radio.checked = value === initial;
    radio.addEventListener('change', () => pick(value));
    label.append(radio, ` ${text}`);
    box.append(label);
  }
  const label = document.createElement('label');
  const check = document.createElement('input');
  check.type = 'checkbox';
  check.checked = true;
  check.addEventListener('change', () => graticule.setVisible(check.checked));
  label.append(check, ' graticule');
  box.append(label);
  pick(initial);
}

/** The lon/lat extent of the collection's layers. */
function collectionExtent(cfg, wmsNamed, wmtsCaps) {
  const e = createEmpty();
  const own = (name) => name === cfg.collection || name.startsWith(`${cfg.collection}__`);
  for (const l of wmsNamed) {
    if (own(l.Name) && l.EX_GeographicBoundingBox) {
      extend(e, l.EX_GeographicBoundingBox);
    }
  }
  if (isEmpty(e) && wmtsCaps) {
    for (const l of wmtsCaps.Contents.Layer) {
      if (own(l.Identifier) && l.WGS84BoundingBox) {
        extend(e, l.WGS84BoundingBox);
      }
    }
  }
  return isEmpty(e) ? null : e;
}

async function main() {
  const cfg = await loadConfig();
  document.title = `${cfg.title} · pvs`;
  document.getElementById('title').textContent = cfg.title;
  status('loading the capabilities…');
  const [wmsCaps, wmtsCaps, opensearch] = await Promise.allSettled([
    wmsCapabilities(cfg.wms),
    wmtsCapabilities(cfg.wmts),
    OpenSearch.load(cfg.opensearch),
  ]);
  const problems = [wmsCaps, wmtsCaps, opensearch].filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  if (wmsCaps.status === 'rejected' && wmtsCaps.status === 'rejected') {
    throw new Error(`neither the WMS nor the WMTS answered: ${problems.join('; ')}`);
  }
  const wmsNamed = wmsCaps.status === 'fulfilled' ? wmsLayers(wmsCaps.value) : [];
  const getMap =
    wmsCaps.status === 'fulfilled'
      ? wmsCaps.value.Capability.Request.GetMap.DCPType[0].HTTP.Get.OnlineResource
      : cfg.wms;
  const wtCaps = wmtsCaps.status === 'fulfilled' ? wmtsCaps.value : null;

  const map = new Map({
    target: 'map',
    controls: defaultControls().extend([new ScaleLine()]),
    view: new View({center: [0, 0], zoom: 2, maxZoom: 20}),
  });
  pvs.map = map;
  backgrounds(map, cfg);

  const entries = buildEntries({collection: cfg.collection, wmtsCaps: wtCaps, wmsLayers: wmsNamed, wms: getMap, stats: pvs.stats});
  if (!entries.length) {
    throw new Error(`the services have no layer of collection ${cfg.collection}`);
  }
  for (const e of entries) {
    e.olLayers().forEach((l) => map.addLayer(l));
  }
  // The default browse and the footprints, as a first look.
  for (const e of entries) {
    e.visible = e.name === cfg.collection || e.kind === 'outlines';
  }
  switcher(document.getElementById('layer-list'), entries);
  pvs.entries = entries;

  const extent = collectionExtent(cfg, wmsNamed, wtCaps);
  if (extent) {
    map.getView().fit(transformExtent(extent, 'EPSG:4326', 'EPSG:3857'), {padding: [30, 30, 30, 30], maxZoom: 14});
  }

  // Time: the TIME dimension of the collection's layer, the acquisitions
  // from OpenSearch.
  const dim = wmsNamed.find((l) => l.Name === cfg.collection)?.Dimension?.find((d) => d.name.toLowerCase() === 'time');
  let timeExtent = dim ? parseExtent(dim.values) : null;
  if (!timeExtent && wtCaps) {
    const d = wtCaps.Contents.Layer.find((l) => l.Identifier === cfg.collection)?.Dimension?.[0];
    timeExtent = d ? parseExtent(String(d.Default || '').replace('--', '/')) : null;
  }
  const os = opensearch.status === 'fulfilled' ? opensearch.value : null;
  let time = null;
  if (timeExtent) {
    const acquisitions = os ? await os.acquisitions().catch(() => []) : [];
    time = new TimeControl({
      extent: timeExtent,
      acquisitions,
      onChange: (w) => entries.forEach((e) => e.setTime(w)),
    });
    entries.forEach((e) => e.setTime(time.window()));
  } else {
    document.getElementById('time').hidden = true;
  }
  pvs.time = time;

  const product = new ProductPage({
    opensearch: os,
    wms: getMap,
    entries,
    onShow: (f) => {
      const begin = Date.parse(String(f.properties.date).split('/')[0]);
      if (time && !Number.isNaN(begin)) {
        time.setCentre(begin);
      }
      map.getView().fit(transformExtent(f.bbox, 'EPSG:4326', 'EPSG:3857'), {padding: [60, 60, 60, 60], duration: 300, maxZoom: 16});
    },
  });
  pvs.product = product;

  let search = null;
  if (os) {
    search = new Search({map, opensearch: os, time, onSelect: (f) => product.show(f)});
  } else {
    document.getElementById('search').hidden = true;
  }
  pvs.search = search;

  const info = new FeatureInfo({
    map,
    wms: getMap,
    // The topmost browse layer shown, else the collection's.
    layer: () => entries.filter((e) => e.visible && e.kind !== 'outlines').map((e) => e.name).pop() || cfg.collection,
    time: () => (time ? time.wmsTime() : null),
    onProduct: (id) => {
      if (os) {
        product.open(id).catch((e) => status(e.message, true));
      }
    },
  });
  pvs.info = info;
  // The popup would stand in the way of the box.
  document.getElementById('draw-box').addEventListener('click', () => info.hide());
  map.on('singleclick', (e) => {
    if (search && search.drawing()) {
      return;
    }
    if (wmsCaps.status === 'fulfilled') {
      info.query(e.coordinate);
    }
  });
  if (os) {
    product.route();
  }
  // Page coordinates of a lon/lat point, and the view's centre in lon/lat.
  pvs.pixel = (lon, lat) => {
    const px = map.getPixelFromCoordinate(fromLonLat([lon, lat]));
    const r = map.getTargetElement().getBoundingClientRect();
    return [r.left + px[0], r.top + px[1]];
  };
  pvs.center = () => toLonLat(map.getView().getCenter());
  status(problems.length ? `some services did not answer: ${problems.join('; ')}` : '', problems.length > 0);
}

main().then(
  () => {
    pvs.ready = true;
  },
  (e) => {
    pvs.error = String((e && e.message) || e);
    status(`the client could not start: ${pvs.error}`, true);
  },
);
