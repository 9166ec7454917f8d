package ows

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/pvs/pvs/internal/xmltext"
)

// Exception codes of OWS Common, shared by every service.
const (
	CodeMissingParameterValue    = "MissingParameterValue"
	CodeInvalidParameterValue    = "InvalidParameterValue"
	CodeOperationNotSupported    = "OperationNotSupported"
	CodeVersionNegotiationFailed = "VersionNegotiationFailed"
	CodeNoApplicableCode         = "NoApplicableCode"
)

// Exception is an OGC service exception and the HTTP status it is sent with.
type Exception struct {
	Code    string
	Locator string
	Message string
	Status  int // 0: 400 Bad Request
}

func (e *Exception) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an exception with a formatted message.
func Errorf(status int, code, locator, format string, args ...any) *Exception {
	return &Exception{Code: code, Locator: locator, Message: fmt.Sprintf(format, args...), Status: status}
}

// HTTPStatus is the status to answer with: Status, or 400 when it is unset.
func (e *Exception) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Encoding is the XML document an exception is written as. Each keeps the
// exact bytes its front end has always sent, quirks included, because
// clients and golden tests compare them.
type Encoding int

const (
	// WMS111 is the WMS 1.1.1 ServiceExceptionReport (no namespace).
	WMS111 Encoding = iota
	// WMS130 is the WMS 1.3.0 ServiceExceptionReport in the ogc namespace.
	WMS130
	// OWS11 is the OWS 1.1 ExceptionReport of WMTS 1.0.0; it always
	// carries a locator attribute, empty when there is none.
	OWS11
	// OWS20 is the OWS 2.0 ExceptionReport of WCS 2.0.1.
	OWS20
	// OpenSearch is the OWS 2.0 ExceptionReport (version 2.0.0, no
	// schemaLocation) that the OpenSearch front end writes for XML clients.
	OpenSearch
)

// ContentType is the media type of the encoding.
func (enc Encoding) ContentType() string {
	switch enc {
	case WMS111:
		return "application/vnd.ogc.se_xml"
	case WMS130:
		return "text/xml"
	default:
		return "application/xml"
	}
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// Encode returns e as a document in enc.
func (enc Encoding) Encode(e *Exception) []byte {
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	esc := xmltext.Escape
	switch enc {
	case WMS111, WMS130:
		loc := ""
		if e.Locator != "" {
			loc = fmt.Sprintf(` locator="%s"`, esc(e.Locator))
		}
		if enc == WMS111 {
			b.WriteString(`<ServiceExceptionReport version="1.1.1">`)
		} else {
			b.WriteString(`<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd">`)
		}
		// The code is written unescaped, as it always was: codes are constants.
		fmt.Fprintf(&b, `<ServiceException code="%s"%s>%s</ServiceException></ServiceExceptionReport>`, e.Code, loc, esc(e.Message))
	case OWS11:
		fmt.Fprintf(&b, `<ExceptionReport xmlns="http://www.opengis.net/ows/1.1" version="1.1.0" xml:lang="en"><Exception exceptionCode="%s" locator="%s"><ExceptionText>%s</ExceptionText></Exception></ExceptionReport>`,
			esc(e.Code), esc(e.Locator), esc(e.Message))
	case OWS20:
		b.WriteString(`<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ows/2.0 http://schemas.opengis.net/ows/2.0/owsExceptionReport.xsd" version="2.0.1" xml:lang="en">`)
		fmt.Fprintf(&b, `<ows:Exception exceptionCode="%s"`, esc(e.Code))
		if e.Locator != "" {
			fmt.Fprintf(&b, ` locator="%s"`, esc(e.Locator))
		}
		fmt.Fprintf(&b, `><ows:ExceptionText>%s</ows:ExceptionText></ows:Exception></ows:ExceptionReport>`, esc(e.Message))
	case OpenSearch:
		fmt.Fprintf(&b, `<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/2.0" version="2.0.0"><ows:Exception exceptionCode="%s" locator="%s"><ows:ExceptionText>%s</ows:ExceptionText></ows:Exception></ows:ExceptionReport>`,
			e.Code, esc(e.Locator), esc(e.Message))
	default:
		panic(fmt.Sprintf("ows: unknown encoding %d", enc))
	}
	return b.Bytes()
}

// Write answers with e in enc, under e's HTTP status.
func Write(w http.ResponseWriter, enc Encoding, e *Exception) {
	w.Header().Set("Content-Type", enc.ContentType())
	w.WriteHeader(e.HTTPStatus())
	w.Write(enc.Encode(e))
}
