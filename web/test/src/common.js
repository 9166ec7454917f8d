// Shared by the pages that e2e/browser drives: the outcome goes to
// window.result, where the Go test polls for it.

/**
 * Runs main and publishes what it returns, or the error it throws, as
 * window.result.
 * @param {function(): Promise<Object>} main
 */
export function report(main) {
  window.result = null;
  main().then(
    (r) => {
      window.result = {ok: true, ...r};
    },
    (e) => {
      window.result = {ok: false, error: String((e && e.stack) || e)};
    },
  );
}

/**
 * What the map's canvases show: the number of painted (not transparent)
 * pixels, their mean colour, and a hash that changes with any pixel.
 * @param {import('ol/Map.js').default} map
 */
export function canvasStats(map) {
  let painted = 0;
  let hash = 2166136261;
  const sum = [0, 0, 0];
  for (const canvas of map.getViewport().querySelectorAll('canvas')) {
    if (!canvas.width || !canvas.height) {
      continue;
    }
    const data = canvas
      .getContext('2d')
      .getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) {
        continue;
      }
      painted++;
      sum[0] += data[i];
      sum[1] += data[i + 1];
      sum[2] += data[i + 2];
      for (let k = 0; k < 4; k++) {
        hash = Math.imul(hash ^ data[i + k], 16777619) >>> 0;
      }
    }
  }
  const mean = sum.map((s) => (painted ? Math.round(s / painted) : 0));
  return {painted, mean, hash};
}

/**
 * Resolves after the next frame in which every source has loaded.
 * @param {import('ol/Map.js').default} map
 */
export function rendered(map) {
  return new Promise((resolve) => {
    map.once('rendercomplete', resolve);
    map.render();
  });
}

/**
 * Fetches a URL and returns its text, failing on an HTTP error.
 * @param {string} url
 */
export async function fetchText(url) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`GET ${url}: HTTP ${response.status}`);
  }
  return response.text();
}
