package stac

import "net/http"

// openAPI is the API definition the landing page's service-desc link
// points to: the paths, their parameters and what they answer, in
// OpenAPI 3.0.
func (h *Handler) openAPI(r *http.Request) map[string]any {
	param := func(name, in, desc string, schema map[string]any) map[string]any {
		return map[string]any{"name": name, "in": in, "description": desc, "required": in == "path", "schema": schema}
	}
	str := map[string]any{"type": "string"}
	strList := map[string]any{"type": "array", "items": str}
	common := []any{
		param("bbox", "query", "west,south,east,north in degrees (EPSG:4326); west above east crosses the antimeridian", map[string]any{"type": "array", "items": map[string]any{"type": "number"}, "minItems": 4, "maxItems": 6}),
		param("datetime", "query", "an RFC 3339 date-time, or an interval start/end with .. for an open end", str),
		param("limit", "query", "items per page", map[string]any{"type": "integer", "minimum": 1, "maximum": h.maxLimit(), "default": defaultLimit}),
		param("token", "query", "the page, as the next and prev links give it", str),
		param("fields", "query", "fields to include, or with a leading - to exclude (e.g. id,properties.eo:cloud_cover,-links)", strList),
		param("sortby", "query", "fields to sort by, each with a leading + (ascending) or - (descending)", strList),
	}
	search := append(append([]any{}, common...),
		param("intersects", "query", "a GeoJSON geometry the items' footprints must intersect", str),
		param("ids", "query", "item identifiers", strList),
		param("collections", "query", "collection identifiers", strList))
	ok := func(desc, typ string) map[string]any {
		return map[string]any{
			"200": map[string]any{"description": desc, "content": map[string]any{typ: map[string]any{}}},
			"400": map[string]any{"description": "a bad parameter, named in the error", "content": map[string]any{jsonType: map[string]any{}}},
		}
	}
	get := func(summary string, params []any, desc, typ string) map[string]any {
		return map[string]any{"summary": summary, "parameters": params, "responses": ok(desc, typ)}
	}
	collectionID := param("collectionId", "path", "the collection", str)
	return map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "pvs STAC API", "version": Version, "description": "STAC API 1.0 over the products of the View Server's catalogue."},
		"servers": []any{map[string]any{"url": h.root(r)}},
		"paths": map[string]any{
			"/":                           map[string]any{"get": get("landing page", nil, "the landing page", jsonType)},
			"/conformance":                map[string]any{"get": get("conformance classes", nil, "the conformance classes", jsonType)},
			"/api":                        map[string]any{"get": get("this API definition", nil, "the API definition", openAPIType)},
			"/collections":                map[string]any{"get": get("the collections", nil, "the collections", jsonType)},
			"/collections/{collectionId}": map[string]any{"get": get("one collection", []any{collectionID}, "the collection", jsonType)},
			"/collections/{collectionId}/items": map[string]any{"get": get("the collection's items",
				append([]any{collectionID}, common...), "a page of items", geoJSONType)},
			"/collections/{collectionId}/items/{itemId}": map[string]any{"get": get("one item",
				[]any{collectionID, param("itemId", "path", "the item", str)}, "the item", geoJSONType)},
			"/search": map[string]any{
				"get": get("item search", search, "a page of items", geoJSONType),
				"post": map[string]any{"summary": "item search", "responses": ok("a page of items", geoJSONType),
					"requestBody": map[string]any{"content": map[string]any{jsonType: map[string]any{"schema": map[string]any{"type": "object"}}}}},
			},
		},
	}
}
