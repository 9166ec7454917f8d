// Unit tests of the client's pure parts, with node's own test runner:
//   node --test test/   (e2e/browser runs them too)
import assert from 'node:assert/strict';
import {test} from 'node:test';

// The modules resolve relative URLs against the page's address.
globalThis.location = new URL('https://vhr18.example/client/');

const {iso, parseExtent} = await import('../src/time.js');
const {OpenSearch, withParams} = await import('../src/services.js');
const {kindOf} = await import('../src/layers.js');
const {previewURL} = await import('../src/search.js');

test('iso writes seconds in UTC, as the services read them', () => {
  assert.equal(iso(Date.UTC(2018, 5, 15, 15, 20, 0, 123)), '2018-06-15T15:20:00Z');
});

test('parseExtent reads intervals, resolutions and lists', () => {
  const s = Date.parse('2018-06-15T15:20:00Z');
  const e = Date.parse('2018-06-17T15:20:30Z');
  assert.deepEqual(parseExtent('2018-06-15T15:20:00Z/2018-06-17T15:20:30Z'), [s, e]);
  assert.deepEqual(parseExtent('2018-06-15T15:20:00Z/2018-06-17T15:20:30Z/PT1H'), [s, e]);
  assert.deepEqual(parseExtent('2018-06-17T15:20:30Z, 2018-06-15T15:20:00Z'), [s, e]);
  assert.equal(parseExtent(''), null);
  assert.equal(parseExtent('current'), null);
});

test('OpenSearch fills its template and leaves out what is not set', () => {
  const os = new OpenSearch(
    'https://vhr18.example/opensearch/json?bbox={geo:box?}&start={time:start?}&end={time:end?}&uid={geo:uid?}&count={count?}&startIndex={startIndex?}',
  );
  const u = new URL(os.url({'geo:box': '-78,24,-77,25', 'time:start': '2018-06-15T00:00:00Z', count: 20}));
  assert.equal(u.searchParams.get('bbox'), '-78,24,-77,25');
  assert.equal(u.searchParams.get('start'), '2018-06-15T00:00:00Z');
  assert.equal(u.searchParams.get('count'), '20');
  assert.equal(u.searchParams.has('end'), false);
  assert.equal(u.searchParams.has('uid'), false);
});

test('withParams replaces parameters whatever their case', () => {
  const u = new URL(withParams('/ows?service=WMS&width=512', {WIDTH: 64, REQUEST: 'GetMap'}));
  assert.equal(u.origin, 'https://vhr18.example');
  assert.deepEqual([...u.searchParams.keys()].sort(), ['REQUEST', 'WIDTH', 'service']);
  assert.equal(u.searchParams.get('WIDTH'), '64');
});

test('previewURL keeps the aspect of the product', () => {
  const u = new URL(previewURL('https://vhr18.example/ows?LAYERS=P&WIDTH=512&HEIGHT=256', 64));
  assert.equal(u.searchParams.get('WIDTH'), '64');
  assert.equal(u.searchParams.get('HEIGHT'), '32');
});

test('kindOf tells browses from outlines', () => {
  assert.equal(kindOf('C', 'C'), 'browse');
  assert.equal(kindOf('C', 'C__NDVI'), 'browse');
  assert.equal(kindOf('C', 'C__outlines'), 'outlines');
  assert.equal(kindOf('C', 'C__outlined'), 'outlined');
});
