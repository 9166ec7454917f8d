// The product page: a panel with the product's metadata, its WCS download
// and DescribeCoverage links, and a preview of every browse layer. Its
// address is #product=<identifier>, so that a product can be linked to.
import {withParams} from './services.js';

/**
 * @param {string} s
 */
function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) {
    e.textContent = text;
  }
  if (className) {
    e.className = className;
  }
  return e;
}

function link(href, text, title) {
  const a = el('a', text);
  a.href = href;
  a.title = title || '';
  a.target = '_blank';
  a.rel = 'noopener';
  return a;
}

/**
 * Whether an image is transparent all over (a browse the product's bands
 * do not allow is drawn as nothing).
 * @param {HTMLImageElement} img
 */
function blank(img) {
  const c = document.createElement('canvas');
  c.width = 32;
  c.height = 32;
  const ctx = c.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(img, 0, 0, 32, 32);
  try {
    const d = ctx.getImageData(0, 0, 32, 32).data;
    for (let i = 3; i < d.length; i += 4) {
      if (d[i] !== 0) {
        return false;
      }
    }
    return true;
  } catch {
    return false; // another origin without CORS: cannot tell
  }
}

export class ProductPage {
  /**
   * @param {Object} options
   * @param {import('./services.js').OpenSearch} options.opensearch
   * @param {string} options.wms the WMS GetMap URL
   * @param {Array<import('./layers.js').Entry>} options.entries
   * @param {function(Object): void} options.onShow show the product on the map
   */
  constructor({opensearch, wms, entries, onShow}) {
    this.opensearch = opensearch;
    this.wms = wms;
    this.entries = entries;
    this.onShow = onShow;
    this.panel = document.getElementById('product');
    this.product = null;
    document.getElementById('product-close').addEventListener('click', () => this.close());
    window.addEventListener('hashchange', () => this.route());
  }

  /** Opens the product named in the address, if any. */
  route() {
    const m = location.hash.match(/^#product=(.+)$/);
    if (!m) {
      this.hide();
      return;
    }
    const id = decodeURIComponent(m[1]);
    if (this.product && this.product.id === id) {
      return;
    }
    this.open(id).catch((e) => {
      this.render({id, properties: {error: e.message}});
    });
  }

  /**
   * Opens a product by its identifier.
   * @param {string} id
   */
  async open(id) {
    const fc = await this.opensearch.search({'geo:uid': id, count: 1});
    const f = fc.features.find((x) => x.id === id);
    if (!f) {
      throw new Error(`no product ${id} in the collection`);
    }
    this.show(f);
  }

  /**
   * Shows a product (an OpenSearch GeoJSON feature).
   * @param {Object} f
   */
  show(f) {
    this.render(f);
    const hash = `#product=${encodeURIComponent(f.id)}`;
    if (location.hash !== hash) {
      history.replaceState(null, '', hash);
    }
  }

  render(f) {
    this.product = f;
    const p = f.properties || {};
    document.getElementById('product-title').textContent = f.id;
    const meta = document.getElementById('product-meta');
    meta.replaceChildren();
    const rows = [
      ['identifier', f.id],
      ['time', p.date && String(p.date).replace('/', ' – ')],
      ['product type', p.productType],
      ['platform', p.platform],
      ['cloud cover', p.cloudCover === undefined ? undefined : `${p.cloudCover} %`],
      ['bounding box', f.bbox && f.bbox.map((v) => Number(v).toFixed(4)).join(', ')],
      ['updated', p.updated],
      ['error', p.error],
    ];
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === '') {
        continue;
      }
      const tr = el('tr');
      tr.append(el('th', k), el('td', String(v)));
      meta.append(tr);
    }
    const actions = document.getElementById('product-actions');
    actions.replaceChildren();
    const links = p.links || {};
    if (links.data && links.data[0]) {
      const a = link(links.data[0].href, 'Download GeoTIFF', 'WCS 2.0.1 GetCoverage');
      a.id = 'product-download';
      a.className = 'button';
      a.setAttribute('download', `${f.id}.tif`);
      actions.append(a);
    }
    if (links.via && links.via[0]) {
      actions.append(link(links.via[0].href, 'DescribeCoverage', 'WCS 2.0.1 DescribeCoverage'));
    }
    if (f.bbox) {
      const show = el('button', 'Show on map');
      show.type = 'button';
      show.id = 'product-show';
      show.addEventListener('click', () => this.onShow(f));
      actions.append(show);
    }
    this.browses(f);
    this.panel.hidden = false;
  }

  /** A preview of the product in each browse layer. */
  browses(f) {
    const box = document.getElementById('product-browses');
    box.replaceChildren();
    if (!f.bbox || !this.wms) {
      return;
    }
    const [w, s, e, n] = f.bbox;
    const width = 160;
    const height = Math.max(1, Math.min(480, Math.round((width * (n - s)) / (e - w || 1))));
    for (const entry of this.entries.filter((x) => x.kind === 'browse' && x.image)) {
      const fig = el('figure');
      const img = el('img');
      img.alt = entry.label;
      img.loading = 'lazy';
      img.width = width;
      img.height = height;
      img.title = `show ${entry.name} on the map`;
      img.addEventListener('click', () => {
        for (const other of this.entries.filter((x) => x.kind !== 'outlines')) {
          other.visible = other === entry;
          other.sync();
        }
        this.onShow(f);
      });
      const caption = el('figcaption', entry.label);
      img.crossOrigin = 'anonymous';
      img.addEventListener('load', () => {
        fig.dataset.drawn = String(!blank(img));
        if (fig.dataset.drawn === 'false') {
          fig.classList.add('empty');
          caption.textContent = `${entry.label}: nothing drawn for this product`;
        }
      });
      img.src = withParams(this.wms, {
        SERVICE: 'WMS', VERSION: '1.3.0', REQUEST: 'GetMap', LAYERS: entry.name, STYLES: '', CRS: 'EPSG:4326',
        BBOX: [s, w, n, e].join(','), WIDTH: width, HEIGHT: height, FORMAT: 'image/png', TRANSPARENT: 'TRUE',
        TIME: String(f.properties.date),
      });
      fig.append(img, caption);
      box.append(fig);
    }
  }

  hide() {
    this.panel.hidden = true;
    this.product = null;
  }

  close() {
    this.hide();
    history.replaceState(null, '', location.pathname + location.search);
  }
}
