package ows

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestEncode(t *testing.T) {
	t.Parallel()
	const hdr = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	full := &Exception{Code: CodeInvalidParameterValue, Locator: `a"b`, Message: "x < y & z", Status: http.StatusNotFound}
	bare := &Exception{Code: CodeNoApplicableCode, Message: "failed"}
	tests := []struct {
		name  string
		enc   Encoding
		e     *Exception
		ctype string
		want  string
	}{
		{"WMS 1.1.1", WMS111, full, "application/vnd.ogc.se_xml",
			hdr + `<ServiceExceptionReport version="1.1.1"><ServiceException code="InvalidParameterValue" locator="a&#34;b">x &lt; y &amp; z</ServiceException></ServiceExceptionReport>`},
		{"WMS 1.1.1 without locator", WMS111, bare, "application/vnd.ogc.se_xml",
			hdr + `<ServiceExceptionReport version="1.1.1"><ServiceException code="NoApplicableCode">failed</ServiceException></ServiceExceptionReport>`},
		{"WMS 1.3.0", WMS130, full, "text/xml",
			hdr + `<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd"><ServiceException code="InvalidParameterValue" locator="a&#34;b">x &lt; y &amp; z</ServiceException></ServiceExceptionReport>`},
		{"OWS 1.1 (WMTS)", OWS11, full, "application/xml",
			hdr + `<ExceptionReport xmlns="http://www.opengis.net/ows/1.1" version="1.1.0" xml:lang="en"><Exception exceptionCode="InvalidParameterValue" locator="a&#34;b"><ExceptionText>x &lt; y &amp; z</ExceptionText></Exception></ExceptionReport>`},
		{"OWS 1.1 without locator", OWS11, bare, "application/xml",
			hdr + `<ExceptionReport xmlns="http://www.opengis.net/ows/1.1" version="1.1.0" xml:lang="en"><Exception exceptionCode="NoApplicableCode" locator=""><ExceptionText>failed</ExceptionText></Exception></ExceptionReport>`},
		{"OWS 2.0 (WCS)", OWS20, full, "application/xml",
			hdr + `<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ows/2.0 http://schemas.opengis.net/ows/2.0/owsExceptionReport.xsd" version="2.0.1" xml:lang="en"><ows:Exception exceptionCode="InvalidParameterValue" locator="a&#34;b"><ows:ExceptionText>x &lt; y &amp; z</ows:ExceptionText></ows:Exception></ows:ExceptionReport>`},
		{"OWS 2.0 without locator", OWS20, bare, "application/xml",
			hdr + `<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ows/2.0 http://schemas.opengis.net/ows/2.0/owsExceptionReport.xsd" version="2.0.1" xml:lang="en"><ows:Exception exceptionCode="NoApplicableCode"><ows:ExceptionText>failed</ows:ExceptionText></ows:Exception></ows:ExceptionReport>`},
		{"OpenSearch", OpenSearch, full, "application/xml",
			hdr + `<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/2.0" version="2.0.0"><ows:Exception exceptionCode="InvalidParameterValue" locator="a&#34;b"><ows:ExceptionText>x &lt; y &amp; z</ows:ExceptionText></ows:Exception></ows:ExceptionReport>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			Write(rec, tt.enc, tt.e)
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("body\n got %s\nwant %s", got, tt.want)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got, want := rec.Code, tt.e.HTTPStatus(); got != want {
				t.Errorf("status %d, want %d", got, want)
			}
		})
	}
}

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	if got := (&Exception{}).HTTPStatus(); got != http.StatusBadRequest {
		t.Errorf("unset status: %d, want 400", got)
	}
	if got := Errorf(http.StatusNotFound, CodeInvalidParameterValue, "x", "%d", 1); got.HTTPStatus() != http.StatusNotFound || got.Error() != "InvalidParameterValue: 1" {
		t.Errorf("Errorf: %+v", got)
	}
}

func TestOrigin(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://maps.example.org:8080/ows?SERVICE=WMS", nil)
	if got := Origin(r); got != "http://maps.example.org:8080" {
		t.Errorf("Origin = %q", got)
	}
	r.TLS = &tls.ConnectionState{}
	if got := Origin(r); got != "https://maps.example.org:8080" {
		t.Errorf("Origin over TLS = %q", got)
	}
}
