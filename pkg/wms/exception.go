package wms

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"net/http"
	"strings"

	"github.com/pvs/pvs/pkg/ows"
)

// OGC exception codes.
const (
	CodeInvalidFormat         = "InvalidFormat"
	CodeInvalidCRS            = "InvalidCRS"
	CodeInvalidSRS            = "InvalidSRS"
	CodeLayerNotDefined       = "LayerNotDefined"
	CodeStyleNotDefined       = "StyleNotDefined"
	CodeMissingParameterValue = ows.CodeMissingParameterValue
	CodeInvalidParameterValue = ows.CodeInvalidParameterValue
	CodeInvalidDimensionValue = "InvalidDimensionValue"
	CodeOperationNotSupported = ows.CodeOperationNotSupported
	CodeVersionNegotiation    = ows.CodeVersionNegotiationFailed
	CodeNoApplicableCode      = ows.CodeNoApplicableCode
)

func errorf(code, locator, format string, args ...any) *ows.Exception {
	return ows.Errorf(http.StatusBadRequest, code, locator, format, args...)
}

// writeException answers with e in the format the request asked for.
func writeException(w http.ResponseWriter, e *ows.Exception, version, exceptions string, width, height int, format string, bg color.NRGBA, transparent bool) {
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
	enc := ows.WMS130
	if version == "1.1.1" {
		enc = ows.WMS111
	}
	ows.Write(w, enc, &ows.Exception{Code: code, Locator: e.Locator, Message: e.Message, Status: e.Status})
}
