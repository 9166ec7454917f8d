// A WMTS layer as an OpenLayers application builds it: from the
// capabilities with optionsFromCapabilities, the view fitted to the tile
// grid's extent (which OpenLayers takes from the ows:BoundingBox in the
// matrix set's CRS). Query: capabilities, layer, matrixSet.
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import {getCenter} from 'ol/extent.js';
import WMTSCapabilities from 'ol/format/WMTSCapabilities.js';
import TileLayer from 'ol/layer/Tile.js';
import WMTS, {optionsFromCapabilities} from 'ol/source/WMTS.js';
import {canvasStats, fetchText, rendered, report} from './common.js';

async function main() {
  const query = new URLSearchParams(location.search);
  const caps = new WMTSCapabilities().read(
    await fetchText(query.get('capabilities')),
  );
  const options = optionsFromCapabilities(caps, {
    layer: query.get('layer'),
    matrixSet: query.get('matrixSet'),
  });
  if (!options) {
    throw new Error('optionsFromCapabilities found no such layer and matrix set');
  }
  const extent = options.tileGrid.getExtent();
  if (!extent) {
    throw new Error('the tile grid has no extent');
  }
  options.crossOrigin = 'anonymous';
  const source = new WMTS(options);
  const tiles = {loaded: 0, failed: 0};
  source.on('tileloadend', () => tiles.loaded++);
  source.on('tileloaderror', () => tiles.failed++);
  const map = new Map({
    target: 'map',
    layers: [new TileLayer({source})],
    view: new View({projection: options.projection}),
  });
  map.getView().fit(extent);
  await rendered(map);
  return {
    projection: options.projection.getCode(),
    extent,
    tiles,
    center: map.getPixelFromCoordinate(getCenter(extent)),
    canvas: canvasStats(map),
  };
}

report(main);
