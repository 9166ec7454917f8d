// GetFeatureInfo: a click on the map lists the products there, in the
// time window, newest first, each opening its product page.
import Overlay from 'ol/Overlay.js';
import ImageWMS from 'ol/source/ImageWMS.js';

export class FeatureInfo {
  /**
   * @param {Object} options
   * @param {import('ol/Map.js').default} options.map
   * @param {string} options.wms the WMS URL
   * @param {function(): string} options.layer the layer to query
   * @param {function(): ?string} options.time the WMS TIME value
   * @param {function(string): void} options.onProduct open a product's page
   */
  constructor({map, wms, layer, time, onProduct}) {
    this.map = map;
    this.wms = wms;
    this.layer = layer;
    this.time = time;
    this.onProduct = onProduct;
    this.element = document.getElementById('popup');
    this.overlay = new Overlay({element: this.element, positioning: 'bottom-center', offset: [0, -8], autoPan: {animation: {duration: 200}}});
    map.addOverlay(this.overlay);
    this.seq = 0;
  }

  /**
   * The GetFeatureInfo URL at a map coordinate.
   * @param {Array<number>} coordinate
   */
  url(coordinate) {
    const name = this.layer();
    const params = {LAYERS: name, QUERY_LAYERS: name, STYLES: ''};
    const time = this.time();
    if (time) {
      params.TIME = time;
    }
    const source = new ImageWMS({url: this.wms, params});
    return source.getFeatureInfoUrl(coordinate, this.map.getView().getResolution(), this.map.getView().getProjection(), {
      INFO_FORMAT: 'application/json',
      FEATURE_COUNT: 10,
    });
  }

  /**
   * Queries the products at a coordinate and shows them in a popup.
   * @param {Array<number>} coordinate
   */
  async query(coordinate) {
    const seq = ++this.seq;
    this.element.replaceChildren(document.createTextNode('…'));
    this.element.hidden = false;
    this.overlay.setPosition(coordinate);
    let fc;
    try {
      const response = await fetch(this.url(coordinate));
      if (!response.ok) {
        throw new Error(`HTTP ${response.status}`);
      }
      fc = await response.json();
    } catch (e) {
      if (seq === this.seq) {
        this.element.textContent = `no information: ${e.message}`;
      }
      return;
    }
    if (seq !== this.seq) {
      return;
    }
    this.render(fc.features || []);
  }

  render(features) {
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'close';
    close.textContent = '×';
    close.addEventListener('click', () => this.hide());
    this.element.replaceChildren(close);
    if (!features.length) {
      this.element.append(document.createTextNode('no product here in the time window'));
      return;
    }
    const ul = document.createElement('ul');
    for (const f of features) {
      const p = f.properties || {};
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `#product=${encodeURIComponent(f.id)}`;
      a.textContent = f.id;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        this.onProduct(f.id);
      });
      const small = document.createElement('small');
      small.textContent = `${p.productType || ''} ${String(p.beginTime || '').replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC')}`;
      li.append(a, document.createElement('br'), small);
      ul.append(li);
    }
    this.element.append(ul);
  }

  hide() {
    this.element.hidden = true;
    this.overlay.setPosition(undefined);
  }
}
