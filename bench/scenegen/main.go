// Command scenegen writes the large synthetic scenes of the benchmarks as
// product packages (a GeoTIFF and its EO O&M metadata in one tar) that the
// preprocessor turns into COGs like any delivery:
//
//	uint16: 10000 x 10000, 4 bands (B, G, R, NIR), UInt16 with 12-bit
//	        values, 10 m pixels in UTM 32N (100 km a side)
//	rgb:    12000 x 8000, 3 bands, Byte, 8 m pixels in UTM 33N
//
// The pixels are smooth fields with per-pixel noise, so that DEFLATE
// compresses them about as well as real imagery; nodata is 0 and never
// occurs inside the scene.
//
//	go run ./bench/scenegen -kind uint16 -id ID -time 2018-07-01T10:00:00Z -o DIR
package main

import (
	"archive/tar"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/airbusgeo/godal"
)

type scene struct {
	w, h, bands int
	dt          godal.DataType
	epsg        int
	gt          [6]float64
}

var scenes = map[string]scene{
	"uint16": {10000, 10000, 4, godal.UInt16, 32632, [6]float64{450000, 10, 0, 5050000, 0, -10}},
	"rgb":    {12000, 8000, 3, godal.Byte, 32633, [6]float64{450000, 8, 0, 5350000, 0, -8}},
}

func main() {
	kind := flag.String("kind", "uint16", "uint16 or rgb")
	id := flag.String("id", "", "product identifier")
	begin := flag.String("time", "2018-07-01T10:00:00Z", "acquisition time")
	out := flag.String("o", ".", "folder of the package <id>.tar")
	flag.Parse()
	sc, ok := scenes[*kind]
	if !ok || *id == "" {
		log.Fatal("scenegen: -kind uint16|rgb and -id are required")
	}
	t0, err := time.Parse(time.RFC3339, *begin)
	if err != nil {
		log.Fatal(err)
	}
	godal.RegisterAll()
	tmp, err := os.MkdirTemp(*out, ".scenegen-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	tif := filepath.Join(tmp, *id+".tif")
	if err := write(tif, sc); err != nil {
		log.Fatal(err)
	}
	xml := filepath.Join(tmp, *id+".xml")
	if err := os.WriteFile(xml, []byte(metadata(*id, t0)), 0o644); err != nil {
		log.Fatal(err)
	}
	pkg := filepath.Join(*out, *id+".tar")
	if err := pack(pkg+".part", tif, xml); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(pkg+".part", pkg); err != nil {
		log.Fatal(err)
	}
	fmt.Println(pkg)
}

// write creates the raster, DEFLATE-compressed in strips (as a delivery
// would be, not yet cloud-optimized), one band-interleaved row at a time.
func write(path string, sc scene) error {
	ds, err := godal.Create(godal.GTiff, path, sc.bands, sc.dt, sc.w, sc.h,
		godal.CreationOption("COMPRESS=DEFLATE", "PREDICTOR=2", "NUM_THREADS=ALL_CPUS", "BIGTIFF=IF_SAFER"))
	if err != nil {
		return err
	}
	sr, err := godal.NewSpatialRefFromEPSG(sc.epsg)
	if err != nil {
		return err
	}
	defer sr.Close()
	if err := ds.SetSpatialRef(sr); err != nil {
		return err
	}
	if err := ds.SetGeoTransform(sc.gt); err != nil {
		return err
	}
	for _, b := range ds.Bands() {
		if err := b.SetNoData(0); err != nil {
			return err
		}
	}
	// Separable smooth fields, one per band, plus noise: 12-bit values
	// around 1500 for UInt16, 8-bit around 120 for Byte.
	amp, base, noise := 800.0, 1500.0, 256
	if sc.dt == godal.Byte {
		amp, base, noise = 90, 120, 32
	}
	cols := make([][]float64, sc.bands)
	for k := range cols {
		cols[k] = make([]float64, sc.w)
		for x := range cols[k] {
			cols[k][x] = math.Sin(float64(x+k*97)/211) + 0.3*math.Sin(float64(x)/23+float64(k))
		}
	}
	n := sc.w * sc.bands
	u16 := make([]uint16, n)
	u8 := make([]uint8, n)
	seed := uint32(1)
	for y := 0; y < sc.h; y++ {
		for k := 0; k < sc.bands; k++ {
			ry := math.Cos(float64(y-k*53)/173) + 0.3*math.Cos(float64(y)/19-float64(k))
			for x := 0; x < sc.w; x++ {
				seed = seed*1664525 + 1013904223
				v := base + amp*cols[k][x]*ry/1.7 + float64(int(seed>>24)*noise>>8-noise/2)
				v = math.Max(1, v)
				if sc.dt == godal.Byte {
					u8[x*sc.bands+k] = uint8(math.Min(255, v))
				} else {
					u16[x*sc.bands+k] = uint16(math.Min(4095, v))
				}
			}
		}
		if sc.dt == godal.Byte {
			err = ds.Write(0, y, u8, sc.w, 1)
		} else {
			err = ds.Write(0, y, u16, sc.w, 1)
		}
		if err != nil {
			return err
		}
	}
	return ds.Close()
}

func metadata(id string, t0 time.Time) string {
	r := strings.NewReplacer("ID", id, "BEGIN", t0.UTC().Format(time.RFC3339), "END", t0.Add(10*time.Second).UTC().Format(time.RFC3339))
	return r.Replace(`<?xml version="1.0" encoding="UTF-8"?>
<opt:EarthObservation xmlns:opt="http://www.opengis.net/opt/2.1" xmlns:eop="http://www.opengis.net/eop/2.1"
    xmlns:om="http://www.opengis.net/om/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="eo_ID">
  <om:phenomenonTime>
    <gml:TimePeriod gml:id="tp_ID">
      <gml:beginPosition>BEGIN</gml:beginPosition>
      <gml:endPosition>END</gml:endPosition>
    </gml:TimePeriod>
  </om:phenomenonTime>
  <eop:metaDataProperty>
    <eop:EarthObservationMetaData>
      <eop:identifier>ID</eop:identifier>
      <eop:acquisitionType>NOMINAL</eop:acquisitionType>
      <eop:productType>VHR_OPTICAL</eop:productType>
      <eop:status>ARCHIVED</eop:status>
    </eop:EarthObservationMetaData>
  </eop:metaDataProperty>
</opt:EarthObservation>
`)
}

func pack(dst string, files ...string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, p := range files {
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		st, _ := in.Stat()
		if err := tw.WriteHeader(&tar.Header{Name: filepath.Base(p), Mode: 0o644, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
			in.Close()
			return err
		}
		_, err = io.Copy(tw, in)
		in.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
