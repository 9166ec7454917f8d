// Package browser runs OpenLayers 10 in headless Chromium against the WMS
// and WMTS of pvs, as web applications use them: the pages in web/test
// build their sources from the capabilities, and the tests check that the
// tiles and maps load and paint. It also drives the web client of
// `pvs client` (web/client) against the daemons. It holds tests only.
package browser
