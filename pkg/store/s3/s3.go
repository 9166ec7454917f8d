package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/pvs/pvs/pkg/store"
)

// Config locates a bucket (and optional key prefix) on an S3 server.
type Config struct {
	Endpoint  string // http(s)://host:port; empty for AWS itself
	Region    string
	AccessKey string
	SecretKey string
	Bucket    string
	Prefix    string // prepended to every key, without a leading slash
}

// Store keeps objects in one bucket.
type Store struct {
	cfg    Config
	client *s3.Client
}

// New returns a Store for cfg. It does not contact the server.
func New(cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3 store: bucket is empty")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cfg.Prefix = strings.Trim(cfg.Prefix, "/")
	if cfg.Prefix != "" {
		cfg.Prefix += "/"
	}
	opts := s3.Options{
		Region:                     cfg.Region,
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.AccessKey != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	return &Store{cfg: cfg, client: s3.New(opts)}, nil
}

// Client returns the SDK client, for administration such as creating buckets.
func (s *Store) Client() *s3.Client { return s.client }

// URL implements store.Store.
func (s *Store) URL() string { return "s3://" + s.cfg.Bucket + "/" + s.cfg.Prefix }

// GDALPath implements store.Store.
func (s *Store) GDALPath(key string) string {
	return "/vsis3/" + s.cfg.Bucket + "/" + s.cfg.Prefix + key
}

// GDALConfig returns the GDAL configuration options that let /vsis3/ reach
// the same server as this store.
func GDALConfig(cfg Config) map[string]string {
	m := map[string]string{"AWS_VIRTUAL_HOSTING": "FALSE"}
	if cfg.Region != "" {
		m["AWS_REGION"] = cfg.Region
	}
	if cfg.AccessKey != "" {
		m["AWS_ACCESS_KEY_ID"] = cfg.AccessKey
		m["AWS_SECRET_ACCESS_KEY"] = cfg.SecretKey
	}
	if u, err := url.Parse(cfg.Endpoint); err == nil && u.Host != "" {
		m["AWS_S3_ENDPOINT"] = u.Host
		if u.Scheme == "http" {
			m["AWS_HTTPS"] = "NO"
		} else {
			m["AWS_HTTPS"] = "YES"
		}
	}
	return m
}

func (s *Store) key(k string) (string, error) {
	if k == "" || strings.HasPrefix(k, "/") || strings.HasSuffix(k, "/") {
		return "", fmt.Errorf("invalid key %q", k)
	}
	return s.cfg.Prefix + k, nil
}

func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey")
}

func wrap(op, key string, err error) error {
	if notFound(err) {
		return fmt.Errorf("%s %s: %w", op, key, fs.ErrNotExist)
	}
	return fmt.Errorf("%s %s: %w", op, key, err)
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &k})
	if err != nil {
		return nil, wrap("get", key, err)
	}
	return out.Body, nil
}

// Put implements store.Store. An S3 PUT replaces the object atomically.
// Readers that cannot seek are spooled to a temporary file first, because a
// signed upload over plain HTTP needs the length and a rewindable body.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	k, err := s.key(key)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	body, ok := r.(io.ReadSeeker)
	if !ok {
		tmp, err := os.CreateTemp("", "pvs-s3-put-*")
		if err != nil {
			return fmt.Errorf("put %s: spool: %w", key, err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(tmp, r); err != nil {
			return fmt.Errorf("put %s: spool: %w", key, err)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("put %s: spool: %w", key, err)
		}
		body = tmp
	}
	size, err := body.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.cfg.Bucket, Key: &k, Body: body, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return wrap("put", key, err)
	}
	return nil
}

// PutFile implements store.FilePutter: the upload reads the file directly,
// without spooling.
func (s *Store) PutFile(ctx context.Context, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer f.Close()
	return s.Put(ctx, key, f)
}

// Stat implements store.Store.
func (s *Store) Stat(ctx context.Context, key string) (store.Object, error) {
	k, err := s.key(key)
	if err != nil {
		return store.Object{}, fmt.Errorf("stat %s: %w", key, err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &k})
	if err != nil {
		return store.Object{}, wrap("stat", key, err)
	}
	o := store.Object{Key: key, Size: aws.ToInt64(out.ContentLength)}
	if out.LastModified != nil {
		o.ModTime = *out.LastModified
	}
	return o, nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.key(key)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &k}); err != nil && !notFound(err) {
		return wrap("delete", key, err)
	}
	return nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]store.Object, error) {
	full := s.cfg.Prefix + prefix
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: &full})
	var out []store.Object
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("list", prefix, err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), s.cfg.Prefix)
			obj := store.Object{Key: key, Size: aws.ToInt64(o.Size)}
			if o.LastModified != nil {
				obj.ModTime = *o.LastModified
			}
			out = append(out, obj)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// CreateBucket creates the store's bucket if it does not exist yet.
func (s *Store) CreateBucket(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.cfg.Bucket})
	if err == nil {
		return nil
	}
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.cfg.Bucket}); err != nil {
		var owned *types.BucketAlreadyOwnedByYou
		if errors.As(err, &owned) {
			return nil
		}
		return fmt.Errorf("create bucket %s: %w", s.cfg.Bucket, err)
	}
	return nil
}
