// Package s3 is the S3 Store (aws-sdk-go-v2): any S3-compatible server,
// path-style addressing, custom endpoint. GDAL reads the same objects through
// /vsis3/ with the options GDALConfig returns.
package s3
