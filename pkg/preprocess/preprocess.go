package preprocess

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/store"
)

// Enqueuer pushes an item onto a named queue.
type Enqueuer interface {
	Enqueue(ctx context.Context, queueName, item string) error
}

// Preprocessor handles preprocess_queue and preprocess-md_queue items.
type Preprocessor struct {
	Source     store.Store
	Output     store.Store
	Next       Enqueuer
	Collection config.Collection
	Options    config.Preprocessor
	// Limits are the caps of a Preprocessor built without a
	// configuration; those of Options.Limits, when set (a loaded
	// configuration sets them all), take precedence. See limits.
	Limits Limits
	// Converter runs the GDAL conversion; nil converts in-process.
	Converter cog.Converter
	Log       *slog.Logger
}

// MDItem is a preprocess-md_queue item (metadata.MDItem's layout).
type MDItem metadata.MDItem

// declares is what the item says of the product that the collection must
// accept: its product type and the collection its parentIdentifier names.
func (md *MDItem) declares() metadata.Product {
	if md == nil {
		return metadata.Product{}
	}
	d := metadata.Product{Identifier: md.Identifier, ProductType: md.ProductType}
	if parent := strings.TrimSpace(md.Properties["parentIdentifier"]); parent != "" {
		d.ParentIdentifier, d.Collection = parent, metadata.CollectionOf(parent)
	}
	return d
}

// over lays what the item declares over what the metadata does.
func (md *MDItem) over(declared metadata.Product) metadata.Product {
	d := md.declares()
	if d.Identifier != "" {
		declared.Identifier = d.Identifier
	}
	if d.ProductType != "" {
		declared.ProductType = d.ProductType
	}
	if d.ParentIdentifier != "" {
		declared.ParentIdentifier, declared.Collection = d.ParentIdentifier, d.Collection
	}
	return declared
}

// Handle is the queue.Handler of the preprocessor. It returns the
// register_queue item it pushed.
func (p *Preprocessor) Handle(ctx context.Context, it queue.Item) (string, error) {
	var md *MDItem
	src := it.Value
	if it.Queue == "preprocess-md_queue" {
		md = &MDItem{}
		dec := json.NewDecoder(strings.NewReader(it.Value))
		dec.DisallowUnknownFields()
		if err := dec.Decode(md); err != nil {
			return "", queue.Permanent(fmt.Errorf("invalid preprocess-md_queue item: %w", err))
		}
		if md.Path == "" {
			return "", queue.Permanent(errors.New("invalid preprocess-md_queue item: no path"))
		}
		if err := metadata.CheckProperties(md.Properties); err != nil {
			return "", queue.Permanent(fmt.Errorf("invalid preprocess-md_queue item: %w", err))
		}
		// A product type or parent the collection does not have fails
		// before anything is downloaded.
		d := md.declares()
		if d.Identifier == "" {
			d.Identifier = md.Path
		}
		if err := checkDeclared(p.Collection, d); err != nil {
			return "", queue.Permanent(err)
		}
		src = md.Path
	}
	if p.Options.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Options.Timeout)
		defer cancel()
	}
	work, err := os.MkdirTemp(p.Options.WorkDir, "pvs-preprocess-*")
	if err != nil {
		return "", fmt.Errorf("create work dir: %w", err)
	}
	defer os.RemoveAll(work)
	out, err := p.process(ctx, src, md, work)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "", queue.Permanent(fmt.Errorf("timeout: not done after %s", p.Options.Timeout))
	}
	return out, readable(err, work)
}

// readable rewrites err for the failure record: paths inside the private
// work dir become paths inside the package, and GDAL's multi-line messages
// become one line. Whether the error is permanent is kept.
func readable(err error, work string) error {
	if err == nil {
		return nil
	}
	msg := strings.ReplaceAll(err.Error(), filepath.Join(work, "package")+"/", "")
	msg = strings.ReplaceAll(msg, work+"/", "")
	msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", " ")), " ")
	clean := &cleanError{msg: msg, err: err}
	if queue.IsPermanent(err) {
		return queue.Permanent(clean)
	}
	return clean
}

type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }

func (p *Preprocessor) process(ctx context.Context, src string, md *MDItem, work string) (string, error) {
	// GDAL's warnings about this item go to its log tail too.
	log := queue.ItemLogger(ctx, p.Log)
	pkgDir := filepath.Join(work, "package")
	if err := os.Mkdir(pkgDir, 0o755); err != nil {
		return "", err
	}
	lim := p.limits()
	if err := p.fetch(ctx, src, work, pkgDir, lim); err != nil {
		return "", err
	}
	d, err := p.identify(src, pkgDir, md, lim)
	if err != nil {
		return "", err
	}
	cogPath := filepath.Join(work, d.prod.Identifier+".tif")
	info, err := p.convert(ctx, log, d, pkgDir, cogPath, lim)
	if err != nil {
		return "", err
	}
	if err := completeProduct(&d.prod, cogPath, log); err != nil {
		return "", err
	}
	prefix := p.Collection.Name + "/" + d.prod.Identifier
	if err := p.publish(ctx, log, d, prefix, cogPath, info); err != nil {
		return "", err
	}
	if err := p.Next.Enqueue(ctx, "register_queue", prefix); err != nil {
		return "", fmt.Errorf("hand %s to the registrar: %w", prefix, err)
	}
	return prefix, nil
}

// detected is what a fetched package holds: the product type it matched,
// the product it describes, its metadata file (if any) and the rasters to
// convert.
type detected struct {
	pt       config.ProductType
	prod     metadata.Product
	metaFile string
	inputs   []string
}

// identify finds the product type, the metadata and the rasters of the
// package in pkgDir, and the product they describe together with md.
func (p *Preprocessor) identify(src, pkgDir string, md *MDItem, lim Limits) (*detected, error) {
	// A preprocess-md_queue item that names the product and its times needs
	// no metadata file in the package.
	needMeta := md == nil || md.Identifier == "" || md.BeginTime == "" || md.EndTime == ""
	pt, metaFile, inputs, err := p.detect(src, pkgDir, md, needMeta, lim)
	if err != nil {
		return nil, queue.Permanent(err)
	}
	d := &detected{pt: pt, metaFile: metaFile, inputs: inputs}
	if metaFile != "" {
		if d.prod, err = readMetadata(metaFile, lim); err != nil {
			return nil, err
		}
	}
	if md != nil {
		if err := applyMD(&d.prod, md); err != nil {
			return nil, queue.Permanent(err)
		}
	}
	// The product is the collection's (detect refused one naming another,
	// in its metadata or in the item), of the type detected; the parent
	// identifier may name a series in it.
	d.prod.Collection = p.Collection.Name
	d.prod.ProductType = pt.Name
	if d.prod.Identifier == "" {
		return nil, queue.Permanent(fmt.Errorf("metadata %s has no identifier", filepath.Base(metaFile)))
	}
	if d.prod.BeginTime.IsZero() {
		return nil, queue.Permanent(errors.New("no acquisition time: neither the metadata nor the item gives one"))
	}
	return d, nil
}

// convert writes the COG of the package's rasters to cogPath and describes it.
func (p *Preprocessor) convert(ctx context.Context, log *slog.Logger, d *detected, pkgDir, cogPath string, lim Limits) (cog.Info, error) {
	pt := d.pt
	opts := cog.Options{Compress: p.Options.COG.Compress, BlockSize: p.Options.COG.BlockSize,
		OverviewResampling: p.Options.COG.Resampling, Threads: p.Options.COG.Threads, Extra: p.Options.COG.Options}
	steps := cog.Steps{Bands: pt.Bands, NoData: pt.NoData, Scale: pt.Scale, Offset: pt.Offset,
		TargetCRS: pt.TargetCRS, Resampling: pt.Resampling}
	conv := p.Converter
	if conv == nil {
		conv = cog.InProcess{Log: log}
	}
	// The package is untrusted: GDAL may open its rasters only with the
	// drivers of the product type, read no file outside it, and must find
	// the sizes within the caps before reading a pixel.
	input := cog.InputPolicy{Drivers: InputDrivers(pt), Root: pkgDir, MaxSide: lim.RasterSide, MaxSamples: lim.RasterSamples}
	usage, err := conv.Convert(ctx, cog.Job{Inputs: d.inputs, Dst: cogPath, Steps: steps, Options: opts, Input: input})
	if err != nil {
		return cog.Info{}, convertError(ctx, d.inputs, err)
	}
	info, err := cog.Describe(cogPath, log)
	if err != nil {
		return cog.Info{}, queue.Permanent(fmt.Errorf("read COG of %s: %w", d.prod.Identifier, err))
	}
	log.Debug("COG written", "identifier", d.prod.Identifier, "seconds", usage.Elapsed.Seconds(),
		"max_rss_mb", usage.MaxRSS>>20, "width", info.Width, "height", info.Height, "bands", len(info.Bands))
	return info, nil
}

// completeProduct fills in a missing footprint from the COG and validates
// the product.
func completeProduct(prod *metadata.Product, cogPath string, log *slog.Logger) error {
	if len(prod.Footprint) == 0 {
		// No footprint in the metadata: the outline of the valid pixels.
		fp, err := cog.ValidFootprint(cogPath, log)
		if err != nil {
			return queue.Permanent(fmt.Errorf("footprint of %s: %w", prod.Identifier, err))
		}
		prod.Footprint = fp
	}
	if err := prod.Validate(); err != nil {
		return queue.Permanent(fmt.Errorf("product %s: %w", prod.Identifier, err))
	}
	return nil
}

// publish uploads the COG, its description, the source metadata and the
// normalised metadata under prefix in the output store.
func (p *Preprocessor) publish(ctx context.Context, log *slog.Logger, d *detected, prefix, cogPath string, info cog.Info) error {
	prod := d.prod
	var gsc bytes.Buffer
	if err := metadata.WriteGSC(&gsc, prod); err != nil {
		return err
	}
	// Statistics from an overview, for the browses without an explicit
	// range: cheap next to the conversion.
	stats, err := cog.Statistics(cogPath, log)
	if err != nil {
		return queue.Permanent(fmt.Errorf("statistics of %s: %w", prod.Identifier, err))
	}
	// The COG's description, so that the registrar needs no GDAL call.
	desc, err := json.Marshal(cog.Description{Info: info, Stats: stats})
	if err != nil {
		return err
	}
	uploads := []upload{{key: prefix + "/" + prod.Identifier + ".tif", file: cogPath},
		{key: prefix + "/" + prod.Identifier + ".json", data: desc}}
	if d.metaFile != "" {
		uploads = append(uploads, upload{key: prefix + "/source/" + filepath.Base(d.metaFile), file: d.metaFile})
	}
	// The normalised metadata goes last: its presence marks a complete product.
	uploads = append(uploads, upload{key: prefix + "/" + prod.Identifier + ".xml", data: gsc.Bytes()})
	for _, u := range uploads {
		if err := u.put(ctx, p.Output); err != nil {
			return err
		}
	}
	return nil
}

// convertError says what a failed conversion means for the item. Bad input
// is a permanent failure. A converter that crashed or could not start says
// nothing certain of the input (the machine may be short of memory, a
// signal may have come from elsewhere): the item is retried, and the
// queue's attempt limit ends an item that crashes every converter.
func convertError(ctx context.Context, inputs []string, err error) error {
	if ctx.Err() != nil {
		return err
	}
	err = fmt.Errorf("convert %s to COG: %w", names(inputs), err)
	if errors.Is(err, cog.ErrCrashed) || errors.Is(err, cog.ErrNotStarted) {
		return err
	}
	return queue.Permanent(err)
}

// readMetadata parses a package's metadata document within the XML caps.
func readMetadata(path string, lim Limits) (metadata.Product, error) {
	f, err := os.Open(path)
	if err != nil {
		return metadata.Product{}, err
	}
	defer f.Close()
	prod, err := lim.xml().ParseXML(f)
	if err != nil {
		return prod, queue.Permanent(fmt.Errorf("metadata %s: %w", filepath.Base(path), xmlCapHint(err)))
	}
	return prod, nil
}

// xmlCapHint names the setting of the XML cap err reports, if any.
func xmlCapHint(err error) error {
	switch {
	case errors.Is(err, metadata.ErrTooLarge):
		return fmt.Errorf("%w (preprocessor.limits.xml_bytes)", err)
	case errors.Is(err, metadata.ErrTooDeep):
		return fmt.Errorf("%w (preprocessor.limits.xml_depth)", err)
	}
	return err
}

type upload struct {
	key  string
	file string // upload this local file, or
	data []byte // these bytes
}

func (u upload) put(ctx context.Context, s store.Store) error {
	var err error
	if u.file != "" {
		err = store.PutFile(ctx, s, u.key, u.file)
	} else {
		err = s.Put(ctx, u.key, bytes.NewReader(u.data))
	}
	if err != nil {
		return fmt.Errorf("upload %s: %w", u.key, err)
	}
	return nil
}

// fetch copies the package named src from the source store into pkgDir,
// unpacking an archive. A single raster is copied too: the conversion then
// reads only local files, and so needs neither network nor credentials.
func (p *Preprocessor) fetch(ctx context.Context, src, work, pkgDir string, lim Limits) error {
	archive := archiveKind(src)
	obj, err := p.Source.Stat(ctx, src)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if archive != "" {
			return queue.Permanent(fmt.Errorf("package %s not found in %s", src, p.Source.URL()))
		}
		// Not an object: a directory-like prefix of objects.
		return p.fetchPrefix(ctx, src, pkgDir, lim)
	}
	// Refused before a byte is fetched when the store knows the size;
	// download checks again, in case the object grew since.
	if obj.Size > lim.DownloadBytes {
		return queue.Permanent(fmt.Errorf("package %s is %d bytes; at most %d may be downloaded (preprocessor.limits.download_bytes)",
			src, obj.Size, lim.DownloadBytes))
	}
	if archive == "" {
		dst, err := safePath(pkgDir, path.Base(src))
		if err != nil {
			return queue.Permanent(err)
		}
		if p.linkLocal(src, dst, lim.DownloadBytes) {
			return nil
		}
		_, err = p.download(ctx, src, dst, lim.DownloadBytes)
		return err
	}
	local := filepath.Join(work, "download")
	if _, err := p.download(ctx, src, local, lim.DownloadBytes); err != nil {
		return err
	}
	if err := unpack(archive, local, pkgDir, lim); err != nil {
		return queue.Permanent(fmt.Errorf("unpack %s: %w", src, err))
	}
	return nil
}

// linkLocal hard-links a single raster of a local store into the package
// instead of copying it, when both are on one file system: a large raster
// then costs no copy. Only a regular file is linked (a link to a symbolic
// link would let GDAL follow it anywhere) within the download cap; any
// other is left to download, which refuses what it must.
func (p *Preprocessor) linkLocal(src, dst string, limit int64) bool {
	local := p.Source.GDALPath(src)
	if strings.HasPrefix(local, "/vsi") {
		return false
	}
	if st, err := os.Lstat(local); err != nil || !st.Mode().IsRegular() || st.Size() > limit {
		return false
	}
	return os.Link(local, dst) == nil
}

// archiveKind is "tar", "tgz" or "zip" for a package name with one of
// their extensions, else "".
func archiveKind(src string) string {
	name := strings.ToLower(src)
	switch {
	case strings.HasSuffix(name, ".tar"):
		return "tar"
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		return "tgz"
	case strings.HasSuffix(name, ".zip"):
		return "zip"
	}
	return ""
}

func unpack(archive, local, pkgDir string, lim Limits) error {
	if archive == "zip" {
		return Unzip(local, pkgDir, lim)
	}
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return Untar(f, st.Size(), pkgDir, archive == "tgz", lim)
}

// fetchPrefix copies the objects under the prefix src. They are the
// package unpacked already: the download cap and the unpacked one both
// hold, and the entries cap.
func (p *Preprocessor) fetchPrefix(ctx context.Context, src, pkgDir string, lim Limits) error {
	prefix := strings.TrimSuffix(src, "/") + "/"
	objs, err := p.Source.List(ctx, prefix)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return queue.Permanent(fmt.Errorf("package %s not found in %s", src, p.Source.URL()))
	}
	if len(objs) > lim.MaxEntries {
		return queue.Permanent(fmt.Errorf("package %s has more than %d objects (preprocessor.limits.entries)", src, lim.MaxEntries))
	}
	left, setting := lim.DownloadBytes, "download_bytes"
	if lim.MaxBytes < left {
		left, setting = lim.MaxBytes, "unpacked_bytes"
	}
	var total int64
	for _, o := range objs {
		total += o.Size
	}
	if total > left {
		return queue.Permanent(fmt.Errorf("package %s is %d bytes; at most %d are allowed (preprocessor.limits.%s)", src, total, left, setting))
	}
	for _, o := range objs {
		dst, err := safePath(pkgDir, strings.TrimPrefix(o.Key, prefix))
		if err != nil {
			return queue.Permanent(err)
		}
		n, err := p.download(ctx, o.Key, dst, left)
		if err != nil {
			return err
		}
		left -= n
	}
	return nil
}

// download copies the object key to the file dst, refusing it past limit
// bytes, and returns the bytes written.
func (p *Preprocessor) download(ctx context.Context, key, dst string, limit int64) (int64, error) {
	rc, err := p.Source.Get(ctx, key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, queue.Permanent(fmt.Errorf("package %s not found in %s", key, p.Source.URL()))
		}
		return 0, err
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(rc, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("download %s: %w", key, err)
	}
	if n > limit {
		return n, queue.Permanent(fmt.Errorf("package %s: more than %d bytes to download (preprocessor.limits.download_bytes)", key, limit))
	}
	return n, nil
}

// detect finds the first product type whose globs (and type extractor)
// match the package, and returns it with the metadata file and the raster
// file(s) it matched. A product type the md item names is the only one
// tried, and neither its match nor its type extractor (ways to recognise
// a type nobody names) is asked.
func (p *Preprocessor) detect(src, dir string, md *MDItem, needMeta bool, lim Limits) (config.ProductType, string, []string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, fp)
		}
		return nil
	})
	if err != nil {
		return config.ProductType{}, "", nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return config.ProductType{}, "", nil, errors.New("package holds no files")
	}
	var tried []string
	decl := &declarations{lim: lim}
	named := md.declares().ProductType
	for _, pt := range p.Collection.ProductTypes {
		if named != "" && pt.Name != named {
			continue
		}
		if named == "" && pt.Match != "" && !matches(src, dir, files, pt.Match) {
			tried = append(tried, fmt.Sprintf("%s (neither the package name nor a path in it contains %q)", pt.Name, pt.Match))
			continue
		}
		meta := firstMatch(files, pt.MetadataGlobs)
		if meta == "" && needMeta {
			tried = append(tried, fmt.Sprintf("%s (metadata %v: missing)", pt.Name, pt.MetadataGlobs))
			continue
		}
		if meta != "" {
			// Metadata that names its product type (eop:productType)
			// picks the type of that name, and nothing else; the md
			// item's product_type and parentIdentifier override it.
			declared := md.over(decl.of(meta))
			if err := checkDeclared(p.Collection, declared); err != nil {
				return pt, "", nil, err
			}
			if declared.ProductType != "" && declared.ProductType != pt.Name {
				tried = append(tried, fmt.Sprintf("%s (metadata declares %q)", pt.Name, declared.ProductType))
				continue
			}
		}
		if e := pt.TypeExtractor; e != nil && meta != "" && named == "" {
			ok, err := extractorMatches(meta, e, lim)
			if err != nil {
				return pt, "", nil, fmt.Errorf("metadata %s: %w", filepath.Base(meta), err)
			}
			if !ok {
				tried = append(tried, fmt.Sprintf("%s (%s does not match %q)", pt.Name, e.Path, e.Pattern))
				continue
			}
		}
		var inputs []string
		if len(pt.BandFiles) > 0 {
			var missing []string
			for _, g := range pt.BandFiles {
				f := firstMatch(files, []string{g})
				if f == "" {
					missing = append(missing, g)
				}
				inputs = append(inputs, f)
			}
			if len(missing) > 0 {
				tried = append(tried, fmt.Sprintf("%s (band files %v: missing)", pt.Name, missing))
				continue
			}
		} else if f := firstMatch(files, pt.DataGlobs); f != "" {
			inputs = []string{f}
		} else if f := namedRaster(p.Collection, pt, src, files); f != "" {
			inputs = []string{f}
		} else {
			tried = append(tried, fmt.Sprintf("%s (data %v: missing)", pt.Name, pt.DataGlobs))
			continue
		}
		return pt, meta, inputs, nil
	}
	return config.ProductType{}, "", nil, fmt.Errorf("no product type of collection %s matches the package: %s",
		p.Collection.Name, strings.Join(tried, "; "))
}

// matches tells whether the package name or the path of a file in the
// unpacked package (relative to it) contains match. Content counts as
// much as the name: a SAFE folder arrives as well in S2A_L2A.tar as in
// S2A_...SAFE.zip.
func matches(src, dir string, files []string, match string) bool {
	if strings.Contains(src, match) {
		return true
	}
	for _, f := range files {
		if rel, err := filepath.Rel(dir, f); err == nil && strings.Contains(filepath.ToSlash(rel), match) {
			return true
		}
	}
	return false
}

func extractorMatches(meta string, e *config.Extractor, lim Limits) (bool, error) {
	f, err := os.Open(meta)
	if err != nil {
		return false, err
	}
	defer f.Close()
	doc, err := lim.xml().ReadAll(f)
	if err != nil {
		return false, xmlCapHint(err)
	}
	values, err := lim.xml().Extract(doc, e.Path)
	if err != nil {
		return false, xmlCapHint(err)
	}
	re, err := regexp.Compile(e.Pattern)
	if err != nil {
		return false, err
	}
	for _, v := range values {
		if re.MatchString(v) {
			return true, nil
		}
	}
	return false, nil
}

func names(paths []string) string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return strings.Join(out, ", ")
}

func firstMatch(files, globs []string) string {
	for _, g := range globs {
		for _, f := range files {
			if ok, _ := filepath.Match(g, filepath.Base(f)); ok {
				return f
			}
		}
	}
	return ""
}

func applyMD(prod *metadata.Product, md *MDItem) error {
	if md.Identifier != "" {
		prod.Identifier = md.Identifier
	}
	if md.BeginTime != "" {
		t, err := metadata.ParseTime(md.BeginTime)
		if err != nil {
			return fmt.Errorf("preprocess-md_queue begin_time: %w", err)
		}
		prod.BeginTime = t
	}
	if md.EndTime != "" {
		t, err := metadata.ParseTime(md.EndTime)
		if err != nil {
			return fmt.Errorf("preprocess-md_queue end_time: %w", err)
		}
		prod.EndTime = t
	}
	if len(md.Footprint) > 0 {
		fp, err := metadata.ParseGeoJSONPolygons(md.Footprint)
		if err != nil {
			return fmt.Errorf("preprocess-md_queue footprint: %w", err)
		}
		prod.Footprint = fp
	}
	for k, v := range md.Properties {
		v = strings.TrimSpace(v)
		if k == "parentIdentifier" {
			prod.ParentIdentifier, prod.Collection = v, metadata.CollectionOf(v)
			continue
		}
		if prod.Properties == nil {
			prod.Properties = map[string]string{}
		}
		prod.Properties[k] = v
	}
	return nil
}
