package wcs

import (
	"bytes"
	"fmt"
	"net/http"
)

// Exception codes of OWS Common 2.0, WCS 2.0.1 core and its extensions.
const (
	CodeMissingParameterValue    = "MissingParameterValue"
	CodeInvalidParameterValue    = "InvalidParameterValue"
	CodeOperationNotSupported    = "OperationNotSupported"
	CodeVersionNegotiationFailed = "VersionNegotiationFailed"
	CodeNoApplicableCode         = "NoApplicableCode"
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

// Error is an OWS exception.
type Error struct {
	Code    string
	Locator string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, locator string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Locator: locator, Message: fmt.Sprintf(format, args...), Status: status}
}

func writeException(w http.ResponseWriter, e *Error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ows/2.0 http://schemas.opengis.net/ows/2.0/owsExceptionReport.xsd" version="2.0.1" xml:lang="en">`)
	fmt.Fprintf(&b, `<ows:Exception exceptionCode="%s"`, esc(e.Code))
	if e.Locator != "" {
		fmt.Fprintf(&b, ` locator="%s"`, esc(e.Locator))
	}
	fmt.Fprintf(&b, `><ows:ExceptionText>%s</ows:ExceptionText></ows:Exception></ows:ExceptionReport>`, esc(e.Message))
	w.Header().Set("Content-Type", "application/xml")
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
