// Pages a WMS layer through the values of its TIME dimension, as a time
// slider does: an ImageWMS source whose TIME parameter changes, each map
// fetched (to see its HTTP status) and its canvas measured. Also loads the
// layer's legend from its LegendURL. Query: wms (the service URL), layer.
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import WMSCapabilities from 'ol/format/WMSCapabilities.js';
import ImageLayer from 'ol/layer/Image.js';
import {transformExtent} from 'ol/proj.js';
import ImageWMS from 'ol/source/ImageWMS.js';
import {canvasStats, fetchText, rendered, report} from './common.js';

/**
 * The values to page through: each instant of the dimension, and for each
 * interval its start, its end and the whole of it.
 * @param {string} values
 */
export function timeValues(values) {
  const out = [];
  for (const v of values.split(',').map((s) => s.trim())) {
    const [start, end] = v.split('/');
    if (end === undefined) {
      out.push(start);
    } else {
      out.push(start, end, `${start}/${end}`);
    }
  }
  return out;
}

function loadLegend(url) {
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve({url, size: [img.naturalWidth, img.naturalHeight]});
    img.onerror = () => resolve({url, error: 'the legend did not load'});
    img.src = url;
  });
}

async function main() {
  const query = new URLSearchParams(location.search);
  const caps = new WMSCapabilities().read(
    await fetchText(`${query.get('wms')}?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0`),
  );
  const layer = caps.Capability.Layer.Layer.find((l) => l.Name === query.get('layer'));
  if (!layer) {
    throw new Error(`no layer ${query.get('layer')} in the capabilities`);
  }
  const dimension = (layer.Dimension || []).find((d) => d.name === 'time');
  if (!dimension) {
    throw new Error('the layer has no time dimension');
  }
  const times = timeValues(dimension.values);
  const requests = [];
  const source = new ImageWMS({
    url: caps.Capability.Request.GetMap.DCPType[0].HTTP.Get.OnlineResource,
    params: {LAYERS: layer.Name, TRANSPARENT: true},
    ratio: 1,
    crossOrigin: 'anonymous',
    // Fetched, not set as an image's src, to read the status and type.
    imageLoadFunction(image, src) {
      const request = {time: new URL(src).searchParams.get('TIME')};
      requests.push(request);
      fetch(src)
        .then(async (response) => {
          request.status = response.status;
          request.type = response.headers.get('Content-Type');
          const blob = await response.blob();
          image.getImage().src = URL.createObjectURL(blob);
        })
        .catch((e) => {
          request.error = String(e);
          image.getImage().src = 'data:,';
        });
    },
  });
  const map = new Map({
    target: 'map',
    layers: [new ImageLayer({source})],
    view: new View({projection: 'EPSG:3857'}),
  });
  map.getView().fit(transformExtent(layer.EX_GeographicBoundingBox, 'EPSG:4326', 'EPSG:3857'));
  // The first map (no TIME: every product) loads before the paging, so
  // that its events cannot be taken for those of the first value.
  await rendered(map);
  const frames = [];
  for (const time of times) {
    const loaded = new Promise((resolve) => {
      source.once('imageloadend', () => resolve('loaded'));
      source.once('imageloaderror', () => resolve('failed'));
    });
    source.updateParams({TIME: time});
    const outcome = await loaded;
    await rendered(map);
    frames.push({time, outcome, canvas: canvasStats(map)});
  }
  const legendURL = layer.Style?.[0]?.LegendURL?.[0];
  return {
    times,
    frames,
    requests,
    legend: legendURL
      ? {advertised: legendURL.size, ...(await loadLegend(legendURL.OnlineResource))}
      : null,
  };
}

report(main);
