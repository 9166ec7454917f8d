package wcs

import (
	"net/http"

	"github.com/pvs/pvs/pkg/ows"
)

// Exception codes of OWS Common 2.0, WCS 2.0.1 core and its extensions.
const (
	CodeMissingParameterValue    = ows.CodeMissingParameterValue
	CodeInvalidParameterValue    = ows.CodeInvalidParameterValue
	CodeOperationNotSupported    = ows.CodeOperationNotSupported
	CodeVersionNegotiationFailed = ows.CodeVersionNegotiationFailed
	CodeNoApplicableCode         = ows.CodeNoApplicableCode
	CodeNoSuchCoverage           = "NoSuchCoverage"
	CodeInvalidAxisLabel         = "InvalidAxisLabel"
	CodeInvalidSubsetting        = "InvalidSubsetting"
	CodeSubsettingCRSNotSupp     = "SubsettingCrs-NotSupported"
	CodeOutputCRSNotSupported    = "OutputCrs-NotSupported"
	CodeInvalidScaleFactor       = "InvalidScaleFactor"
	CodeInvalidExtent            = "InvalidExtent"
	CodeNoSuchField              = "NoSuchField"
	CodeInterpolationNotSupp     = "InterpolationMethodNotSupported"
)

func errorf(code, locator string, status int, format string, args ...any) *ows.Exception {
	return ows.Errorf(status, code, locator, format, args...)
}

func writeException(w http.ResponseWriter, e *ows.Exception) { ows.Write(w, ows.OWS20, e) }
