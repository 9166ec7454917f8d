"""Uses the WMS, WMTS and WCS of pvs through OWSLib, as a map client does.

Run as `python3 owslib_check.py CONFIG.json`; CONFIG holds the service
addresses, the collection, a product with its lon/lat box and a lon/lat
point inside it, and a folder for the images. The findings are printed as
one JSON document; an exception of OWSLib is recorded with the call that
raised it, and the checks that need its result are left out.
"""

import json
import math
import os
import struct
import sys
import traceback

import owslib
from owslib.wcs import WebCoverageService
from owslib.wms import WebMapService
from owslib.wmts import WebMapTileService

GML = "{http://www.opengis.net/gml/3.2}"
WCS = "{http://www.opengis.net/wcs/2.0}"

errors = []


def call(name, fn):
    """Runs fn; an exception is recorded under name and None returned."""
    try:
        return fn()
    except Exception as e:  # every failure is a finding
        errors.append({
            "call": name,
            "error": "%s: %s" % (type(e).__name__, e),
            "trace": traceback.format_exc(limit=6),
        })
        return None


def save(cfg, name, body):
    path = os.path.join(cfg["out"], name)
    with open(path, "wb") as f:
        f.write(body)
    return path


def png_info(body):
    """The PNG signature and the IHDR size, from the bytes themselves."""
    ok = body[:8] == b"\x89PNG\r\n\x1a\n"
    size = None
    if ok and body[12:16] == b"IHDR":
        size = list(struct.unpack(">II", body[16:24]))
    return {"png": ok, "size": size, "bytes": len(body)}


def image(cfg, name, response):
    body = response.read()
    info = png_info(body)
    info["content_type"] = response.info().get("Content-Type")
    info["file"] = save(cfg, name, body)
    if not info["png"]:
        info["head"] = body[:300].decode("utf-8", "replace")
    return info


def to_mercator(lon, lat):
    r = 6378137.0
    return r * math.radians(lon), r * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def layer_info(layer):
    return {
        "title": layer.title,
        "queryable": int(layer.queryable or 0),
        "bbox": list(layer.boundingBox) if layer.boundingBox else None,
        "bbox_wgs84": list(layer.boundingBoxWGS84) if layer.boundingBoxWGS84 else None,
        # 1.3.0: every BoundingBox, which OWSLib turns to x/y order
        "bboxes": [list(b) for b in getattr(layer, "crs_list", [])],
        "crs": sorted(layer.crsOptions or []),
        "styles": sorted(layer.styles or {}),
        "legend": {k: v.get("legend") for k, v in (layer.styles or {}).items()},
        "timepositions": layer.timepositions,
        "defaulttimeposition": layer.defaulttimeposition,
        "dimensions": getattr(layer, "dimensions", None),
    }


def wms(cfg, version):
    out = {}
    w = call("WebMapService(%s)" % version, lambda: WebMapService(cfg["wms"], version=version, timeout=60))
    if w is None:
        return out
    out["version"] = w.identification.version
    out["layers"] = list(w.contents)
    out["operations"] = [op.name for op in w.operations]
    out["getmap_formats"] = call("getOperationByName(GetMap)", lambda: w.getOperationByName("GetMap").formatOptions)
    out["featureinfo_formats"] = call("getOperationByName(GetFeatureInfo)",
                                      lambda: w.getOperationByName("GetFeatureInfo").formatOptions)
    coll = cfg["collection"]
    out["collection_layers"] = {name: layer_info(w[name]) for name in w.contents
                                if name == coll or name.startswith(coll + "__")}
    lon0, lat0, lon1, lat1 = cfg["bbox"]
    size = (256, 256)
    out["getmap"] = {}
    for srs, bbox in (("EPSG:4326", (lon0, lat0, lon1, lat1)),
                      ("EPSG:3857", to_mercator(lon0, lat0) + to_mercator(lon1, lat1))):
        name = "GetMap %s %s" % (version, srs)
        r = call("getmap(%s, %s)" % (version, srs), lambda: w.getmap(
            layers=[coll], styles=["default"], srs=srs, bbox=bbox, size=size,
            format="image/png", transparent=True))
        if r is not None:
            out["getmap"][srs] = image(cfg, "wms_%s_%s.png" % (version, srs.replace(":", "")), r)
            out["getmap"][srs]["request"] = w.request
    if version == "1.3.0":
        # The product's point as a pixel of the 256² map over its box.
        lon, lat = cfg["point"]
        i = int((lon - lon0) / (lon1 - lon0) * size[0])
        j = int((lat1 - lat) / (lat1 - lat0) * size[1])
        r = call("getfeatureinfo(1.3.0, EPSG:4326)", lambda: w.getfeatureinfo(
            layers=[coll], styles=["default"], srs="EPSG:4326", bbox=(lon0, lat0, lon1, lat1), size=size,
            format="image/png", query_layers=[coll], info_format="application/json", xy=(i, j)))
        if r is not None:
            body = r.read()
            fi = {"content_type": r.info().get("Content-Type"), "request": w.request, "xy": [i, j]}
            doc = call("GetFeatureInfo JSON", lambda: json.loads(body))
            if doc is None:
                fi["body"] = body[:300].decode("utf-8", "replace")
            else:
                fi["ids"] = [f.get("id") for f in doc.get("features", [])]
            out["getfeatureinfo"] = fi
    return out


def wmts(cfg):
    out = {}
    t = call("WebMapTileService", lambda: WebMapTileService(cfg["wmts"], timeout=60))
    if t is None:
        return out
    coll = cfg["collection"]
    out["layers"] = list(t.contents)
    out["tilematrixsets"] = list(t.tilematrixsets)
    out["operations"] = [op.name for op in t.operations]
    if coll not in t.contents:
        return out
    layer = t.contents[coll]
    out["layer"] = {
        "bbox_wgs84": list(layer.boundingBoxWGS84) if layer.boundingBoxWGS84 else None,
        "formats": layer.formats,
        "styles": sorted(layer.styles or {}),
        "tilematrixsetlinks": sorted(layer.tilematrixsetlinks),
        "resource_urls": [u["template"] for u in layer.resourceURLs],
        "dimensions": getattr(layer, "dimensions", None),
    }
    # The tile of GoogleMapsCompatible at level 8 holding the point.
    lon, lat = cfg["point"]
    tms = t.tilematrixsets.get("GoogleMapsCompatible")
    if tms is None:
        return out
    z = "8"
    m = tms.tilematrix.get(z)
    if m is None:
        errors.append({"call": "tilematrixsets[GoogleMapsCompatible].tilematrix[8]", "error": "missing"})
        return out
    x, y = to_mercator(lon, lat)
    span = m.scaledenominator * 0.00028 * m.tilewidth
    col = int((x - m.topleftcorner[0]) / span)
    row = int((m.topleftcorner[1] - y) / span)
    out["tile"] = {"matrix": z, "row": row, "col": col,
                   "matrix_size": [m.matrixwidth, m.matrixheight]}
    r = call("gettile(GoogleMapsCompatible)", lambda: t.gettile(
        layer=coll, tilematrixset="GoogleMapsCompatible", tilematrix=z, row=row, column=col,
        format="image/png"))
    if r is not None:
        out["tile"].update(image(cfg, "wmts_tile.png", r))
    return out


def wcs(cfg):
    out = {}
    c = call("WebCoverageService(2.0.1)", lambda: WebCoverageService(cfg["wcs"], version="2.0.1", timeout=60))
    if c is None:
        return out
    out["version"] = c.version
    out["coverages"] = list(c.contents)
    out["operations"] = [op.name for op in c.operations]
    pid = cfg["product"]
    if pid not in c.contents:
        return out
    cov = c.contents[pid]
    out["formats"] = call("supportedFormats", lambda: cov.supportedFormats)
    boxes = call("boundingboxes (DescribeCoverage)", lambda: cov.boundingboxes)
    grid = call("grid (DescribeCoverage)", lambda: cov.grid)
    if not boxes or grid is None:
        return out
    out["boundingboxes"] = boxes
    out["grid"] = {"axislabels": grid.axislabels, "low": grid.lowlimits, "high": grid.highlimits,
                   "origin": getattr(grid, "origin", None), "offsetvectors": getattr(grid, "offsetvectors", None)}
    # The envelope's own axis labels name the subset axes; OWSLib keeps
    # the DescribeCoverage document it read.
    env = call("DescribeCoverage Envelope", lambda: c.getDescribeCoverage(pid).find(
        WCS + "CoverageDescription/" + GML + "boundedBy/" + GML + "Envelope").attrib)
    labels = ((env or {}).get("axisLabels") or "").split()
    out["axis_labels"] = labels
    if len(labels) != 2:
        errors.append({"call": "DescribeCoverage Envelope axisLabels", "error": "got %r" % labels})
        return out
    # The central half of the coverage, in its own CRS and axis order.
    lo0, lo1, hi0, hi1 = boxes[0]["bbox"]
    q0, q1 = (hi0 - lo0) / 4, (hi1 - lo1) / 4
    subsets = [(labels[0], lo0 + q0, hi0 - q0), (labels[1], lo1 + q1, hi1 - q1)]
    out["subsets"] = [list(s) for s in subsets]
    r = call("getCoverage(image/tiff)", lambda: c.getCoverage(identifier=[pid], format="image/tiff", subsets=subsets))
    if r is not None:
        body = r.read()
        out["coverage"] = {
            "content_type": r.info().get("Content-Type"),
            "tiff": body[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
            "bytes": len(body),
            "file": save(cfg, "coverage.tif", body),
        }
        if not out["coverage"]["tiff"]:
            out["coverage"]["head"] = body[:300].decode("utf-8", "replace")
    return out


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    report = {"owslib": owslib.__version__}
    report["wms"] = {v: wms(cfg, v) for v in ("1.1.1", "1.3.0")}
    report["wmts"] = wmts(cfg)
    report["wcs"] = wcs(cfg)
    report["errors"] = errors
    json.dump(report, sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main()
