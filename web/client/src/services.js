// The collection's services: the client's configuration, the WMS and WMTS
// capabilities and the OpenSearch description, and the URLs built on them.
import WMSCapabilities from 'ol/format/WMSCapabilities.js';
import WMTSCapabilities from 'ol/format/WMTSCapabilities.js';

/**
 * Fetches a URL and returns its text, failing on an HTTP error with the
 * start of the answer (an OGC exception says what went wrong).
 * @param {string} url
 */
export async function fetchText(url) {
  const response = await fetch(url);
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`GET ${url}: HTTP ${response.status} ${text.slice(0, 200)}`);
  }
  return text;
}

/** @param {string} url */
export async function fetchJSON(url) {
  return JSON.parse(await fetchText(url));
}

/**
 * The client's configuration (served by pvs client from the collection's
 * configuration).
 * @return {Promise<{collection: string, title: string, wms: string, wcs: string, wmts: string, opensearch: string, baseMap?: {url: string, attribution?: string, maxZoom?: number}}>}
 */
export function loadConfig() {
  return fetchJSON('config.json');
}

/**
 * url with params set (replacing any of the same name, case-insensitively
 * as OGC services read them).
 * @param {string} url
 * @param {Object<string, string|number>} params
 */
export function withParams(url, params) {
  const u = new URL(url, location.href);
  for (const [k, v] of Object.entries(params)) {
    for (const existing of [...u.searchParams.keys()]) {
      if (existing.toLowerCase() === k.toLowerCase()) {
        u.searchParams.delete(existing);
      }
    }
    u.searchParams.set(k, String(v));
  }
  return u.toString();
}

/** @param {string} url the WMS endpoint */
export async function wmsCapabilities(url) {
  const text = await fetchText(withParams(url, {SERVICE: 'WMS', REQUEST: 'GetCapabilities', VERSION: '1.3.0'}));
  return new WMSCapabilities().read(text);
}

/** @param {string} url the WMTS capabilities document */
export async function wmtsCapabilities(url) {
  return new WMTSCapabilities().read(await fetchText(url));
}

/**
 * The named layers of WMS capabilities, at any depth.
 * @param {Object} caps
 * @return {Array<Object>}
 */
export function wmsLayers(caps) {
  const out = [];
  const walk = (l) => {
    if (!l) {
      return;
    }
    if (l.Name) {
      out.push(l);
    }
    (l.Layer || []).forEach(walk);
  };
  walk(caps.Capability && caps.Capability.Layer);
  return out;
}

/**
 * The OpenSearch endpoint for GeoJSON results: its URL template, from the
 * description document.
 */
export class OpenSearch {
  /** @param {string} template */
  constructor(template) {
    this.template = template;
  }

  /** @param {string} url the description document */
  static async load(url) {
    const doc = new DOMParser().parseFromString(await fetchText(url), 'application/xml');
    for (const el of doc.getElementsByTagNameNS('*', 'Url')) {
      const rel = el.getAttribute('rel') || 'results';
      if (el.getAttribute('type') === 'application/geo+json' && rel === 'results') {
        return new OpenSearch(el.getAttribute('template'));
      }
    }
    throw new Error(`the OpenSearch description at ${url} offers no GeoJSON results`);
  }

  /**
   * The search URL for values keyed by template parameter (geo:box,
   * time:start, count...); parameters without a value are left out.
   * @param {Object<string, string|number>} values
   */
  url(values) {
    const filled = this.template.replace(/\{([^}?]+)\??\}/g, (m, name) =>
      values[name] === undefined || values[name] === null ? '' : encodeURIComponent(String(values[name])),
    );
    const u = new URL(filled, location.href);
    for (const [k, v] of [...u.searchParams.entries()]) {
      if (v === '') {
        u.searchParams.delete(k);
      }
    }
    return u.toString();
  }

  /**
   * Runs a search and returns the GeoJSON FeatureCollection.
   * @param {Object<string, string|number>} values
   */
  search(values) {
    return fetchJSON(this.url(values));
  }

  /**
   * Every product's acquisition time (begin, in ms), following the pages
   * up to limit products.
   * @param {number} limit
   */
  async acquisitions(limit = 2000) {
    const times = [];
    let url = this.url({count: 200, startIndex: 1});
    while (url && times.length < limit) {
      const page = await fetchJSON(url);
      for (const f of page.features) {
        const begin = Date.parse(String(f.properties.date).split('/')[0]);
        if (!Number.isNaN(begin)) {
          times.push(begin);
        }
      }
      const next = page.properties && page.properties.links && page.properties.links.next;
      url = next && next.length && page.features.length ? next[0].href : null;
    }
    return [...new Set(times)].sort((a, b) => a - b);
  }
}
