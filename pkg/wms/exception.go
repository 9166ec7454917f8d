package wms

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"net/http"
	"strings"

	"github.com/pvs/pvs/internal/xmltext"
)

// OGC exception codes.
const (
	CodeInvalidFormat         = "InvalidFormat"
	CodeInvalidCRS            = "InvalidCRS"
	CodeInvalidSRS            = "InvalidSRS"
	CodeLayerNotDefined       = "LayerNotDefined"
	CodeStyleNotDefined       = "StyleNotDefined"
	CodeMissingParameterValue = "MissingParameterValue"
	CodeInvalidParameterValue = "InvalidParameterValue"
	CodeInvalidDimensionValue = "InvalidDimensionValue"
	CodeOperationNotSupported = "OperationNotSupported"
	CodeVersionNegotiation    = "VersionNegotiationFailed"
	CodeNoApplicableCode      = "NoApplicableCode"
)

// Error is an OGC service exception.
type Error struct {
	Code    string
	Locator string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, locator, format string, args ...any) *Error {
	return &Error{Code: code, Locator: locator, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// writeException answers with e in the format the request asked for.
func writeException(w http.ResponseWriter, e *Error, version, exceptions string, width, height int, format string, bg color.NRGBA, transparent bool) {
	code := e.Code
	if version == "1.1.1" && code == CodeInvalidCRS {
		code = CodeInvalidSRS
	}
	ex := strings.ToUpper(exceptions)
	if width > 0 && height > 0 && (strings.HasSuffix(ex, "INIMAGE") || strings.HasSuffix(ex, "BLANK")) {
		img := image.NewNRGBA(image.Rect(0, 0, width, height))
		if !transparent {
			draw.Draw(img, img.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
		}
		if strings.HasSuffix(ex, "INIMAGE") {
			drawText(img, 4, 4, e.Message, color.NRGBA{200, 0, 0, 255})
		}
		var buf bytes.Buffer
		if err := encode(&buf, img, format, bg); err == nil {
			w.Header().Set("Content-Type", format)
			w.WriteHeader(http.StatusOK) // the image is the answer, by the standard
			w.Write(buf.Bytes())
			return
		}
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	msg := &bytes.Buffer{}
	_ = xml.EscapeText(msg, []byte(e.Message))
	loc := ""
	if e.Locator != "" {
		loc = fmt.Sprintf(` locator="%s"`, xmlAttr(e.Locator))
	}
	if version == "1.1.1" {
		fmt.Fprintf(&b, `<ServiceExceptionReport version="1.1.1"><ServiceException code="%s"%s>%s</ServiceException></ServiceExceptionReport>`, code, loc, msg)
		w.Header().Set("Content-Type", "application/vnd.ogc.se_xml")
	} else {
		fmt.Fprintf(&b, `<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd"><ServiceException code="%s"%s>%s</ServiceException></ServiceExceptionReport>`, code, loc, msg)
		w.Header().Set("Content-Type", "text/xml")
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// xmlAttr escapes XML text.
var xmlAttr = xmltext.Escape
