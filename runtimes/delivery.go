package runtimes

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/attune-run/attune"
)

// paramFileExt is the file name extension of a parameter file, by format.
var paramFileExt = map[string]string{
	"":                ".json",
	ParamFormatJSON:   ".json",
	ParamFormatDotenv: ".env",
	ParamFormatYAML:   ".yaml",
}

// delivery is how one run's parameter document reaches its process.
type delivery struct {
	stdin   []byte   // written to the process's stdin, which is then closed
	env     []string // NAME=value entries added to the process's environment
	cleanup func()   // removes what the delivery left on disk; never nil
}

// checkDelivery reports why req's parameters cannot be delivered the way it asks, in one line
// for Result.Error; nil when they can. Secret parameters go on stdin only: a file, however
// private, outlives a crashed worker.
func checkDelivery(req Request) error {
	switch req.ParameterDelivery {
	case "", attune.DeliveryStdin:
		return nil
	case attune.DeliveryFile:
	default:
		return fmt.Errorf("parameter delivery %q is not supported; use %q or %q",
			req.ParameterDelivery, attune.DeliveryStdin, attune.DeliveryFile)
	}
	names := make([]string, 0, len(req.Parameters))
	for name := range req.Parameters {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if req.Action.Parameters[name].Secret {
			return fmt.Errorf("parameter %q is secret, and secrets are delivered on stdin only; set parameter_delivery: stdin on action %s",
				name, req.Action.Ref)
		}
	}
	return nil
}

// deliver prepares the delivery of doc, the encoded parameters, for req, which checkDelivery
// accepted. For attune.DeliveryFile it writes doc to a new file in WorkDir/params (directory
// 0700, file 0400, named after the execution and the format), whose cleanup removes it.
func (r *processRunner) deliver(req Request, doc []byte) (delivery, error) {
	format := req.ParameterFormat
	if format == "" {
		format = ParamFormatJSON
	}
	d := delivery{cleanup: func() {}}
	if req.ParameterDelivery != attune.DeliveryFile {
		d.stdin = doc
		d.env = []string{"ATTUNE_PARAMETER_DELIVERY=" + attune.DeliveryStdin, "ATTUNE_PARAMETER_FORMAT=" + format}
		return d, nil
	}
	dir := filepath.Join(r.cfg.WorkDir, "params")
	if err := PrepareWorkDir(r.cfg.WorkDir); err != nil {
		return d, err
	}
	if err := makePrivateDir(dir); err != nil {
		return d, fmt.Errorf("create parameter file directory %q: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, fmt.Sprintf("exec-%d-*%s", req.ExecutionID, paramFileExt[format]))
	if err != nil {
		return d, fmt.Errorf("create parameter file: %w", err)
	}
	path := f.Name()
	_, err = f.Write(doc)
	if err == nil {
		err = f.Chmod(0o400)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return d, fmt.Errorf("write parameter file %q: %w", path, err)
	}
	d.cleanup = func() {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			r.cfg.Logger.Warn("could not remove parameter file", "path", path, "error", err)
		}
	}
	d.env = []string{
		"ATTUNE_PARAMETER_DELIVERY=" + attune.DeliveryFile,
		"ATTUNE_PARAMETER_FORMAT=" + format,
		"ATTUNE_PARAMETER_FILE=" + path,
	}
	return d, nil
}
