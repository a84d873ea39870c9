// Package runtimes runs one action and reports what happened: the shell and python runtimes run
// the action's entry point as a real child process; the noop and http runtimes answer in
// process.
//
// A [Set] holds one [Runner] per runtime name and selects it by the action's Runtime field,
// exactly; it never guesses a runtime from the entry point's file name.
//
// # Entry points
//
// The entry point's content travels with the action (attune.Action.EntryContent) so any worker
// can run it. It is materialised once under Config.WorkDir, which must be the worker's user's and
// closed to others (PrepareWorkDir), in a content-addressed directory,
// WorkDir/<sha256 of content>/<base name of EntryPoint> (directory 0700, file 0500, written to a
// new temporary file created with O_EXCL and renamed into place), and reused by later runs once
// it has been checked again. The process runs with that
// directory as its working directory:
//
//	shell:  <ShellInterpreter> <file>
//	python: <python> -u <file>
//
// # Parameters
//
// Parameters reach the process as one document. They are never put on the command line or in
// the environment, where other users of the host could read them from /proc.
// Request.ParameterDelivery says where the document goes:
//
//   - stdin (the default): written to the process's stdin, which is then closed.
//   - file: written to a new file WorkDir/params/exec-<id>-<random>.<json|env|yaml>, mode 0400
//     in a 0700 directory, named in ATTUNE_PARAMETER_FILE; stdin is empty. The file is removed
//     when the run ends, however it ends. A secret parameter (secret: true in the action's
//     schema) is never written to a file, which a crashed worker would leave behind: such a run
//     fails before it starts, asking for stdin delivery.
//
// Request.ParameterFormat picks the document's format: JSON (the default), dotenv or YAML.
//
// JSON is one compact line followed by "\n".
//
// YAML is one block mapping, keys sorted, as go.yaml.in/yaml/v3 writes it: a string that would
// read back as something else is quoted ("5", "true", "n"), multi-line strings are literal
// blocks, so the document keeps the JSON type of every value.
//
// Dotenv is one line per parameter, sorted by key, the value single-quoted for a POSIX shell:
//
//	count='3'
//	enabled='true'
//	headers='{"Accept":"text/plain"}'
//	message='it'\''s $HOME, `literally`'
//	nothing=''
//
// Strings are written as they are (newlines included); numbers and booleans as their JSON text;
// objects and arrays as their compact JSON text, not flattened; null as an empty string. Inside
// single quotes everything is literal except the quote itself, which closes the quotes, is
// written backslash-escaped and reopens them (see message above). A POSIX sh action can
// therefore load its parameters as shell variables with
//
//	eval "$(cat)"
//
// whatever the values contain: newlines, quotes, $, backticks, backslashes. Keys must be shell
// identifiers ([A-Za-z_][A-Za-z0-9_]*) and string values must not contain NUL bytes; otherwise
// the run fails before the process starts. eval assigns shell variables of those names, so a
// parameter called PATH or IFS does what it says. A dotenv parameter file is loaded the same way
// with `. "$ATTUNE_PARAMETER_FILE"`.
//
// This is where attune parts from the predecessor, whose dotenv flattened nested objects into
// headers.Content-Type='…' lines (not shell names) and whose scripts read the document line by
// line, stripping the outer quotes: values with newlines or quotes broke. Values are quoted the
// same way here, but scripts load the document with the shell itself, so every value survives.
//
// # Environment
//
// The process's environment is built from nothing, never inherited whole from the worker: PATH,
// HOME, LANG and TZ (the worker's values, or defaults for the first three when the worker has
// none), then the action's declared env (attune.Action.Env: literal values, names that are shell
// identifiers and never start with ATTUNE_), then attune's context: the entries of Request.Env
// (ATTUNE_* names only, e.g. ATTUNE_WORKER), ATTUNE_EXECUTION_ID, ATTUNE_ACTION (the action
// ref), ATTUNE_PACK (the pack ref), ATTUNE_PARAMETER_DELIVERY and ATTUNE_PARAMETER_FORMAT (the
// effective values), and ATTUNE_PARAMETER_FILE with file delivery. Nothing else: the worker's
// own ATTUNE_* configuration (the secrets key, the database URL) never reaches an action.
//
// # Output
//
// stdout and stderr are captured separately, each up to Config.OutputCap bytes. Output beyond the
// cap is read and discarded so the process never blocks on a full pipe; the kept text ends with a
// marker line "\n…[truncated N bytes]" and Result.StdoutTruncated or StderrTruncated is set.
// A successful run's stdout is parsed into Result.Data as the action's OutputFormat says, and
// kept in Result.Stdout as well:
//
//   - text (the default): not parsed.
//   - json: the whole of stdout, or failing that its last non-empty line (so a script may log
//     before printing its result); if neither is JSON, or stdout is empty, the run fails.
//   - yaml: stdout as one YAML document, its values turned into what JSON decoding gives
//     (timestamps become RFC 3339 strings, non-string keys their text); empty stdout, a syntax
//     error or a second document fails the run.
//   - jsonl: an array of every stdout line that parses as JSON on its own; other lines (log
//     lines, the truncation marker) are skipped, and no such line gives []. It never fails.
//
// # The http runtime
//
// The http runtime makes one request with net/http, in process, from the action's parameters
// (see HTTPParameters): url (required, absolute http or https), method (GET, HEAD, POST, PUT,
// PATCH, DELETE, OPTIONS; default GET), headers and query (objects of name to a string, number,
// boolean or list of them; query adds to the url's own), body (a string) or json (any value,
// sent as JSON with Content-Type: application/json unless headers set one), timeout (seconds,
// default 30, also bounded by the action's timeout), auth_type none, basic (auth_username,
// auth_password) or bearer (auth_token), follow_redirects (default true), max_redirects
// (default 10) and fail_on_status (a list of codes 404, comparisons ">=400", ranges "500-599"
// or classes "5xx"). Proxies come from HTTP_PROXY, HTTPS_PROXY and NO_PROXY; net/http drops the
// Authorization header when a redirect leaves the original host.
//
// Any response completes the run, whatever its status, unless fail_on_status names the status:
// the run then fails (exit code 1) and keeps the response. Result.Data is
//
//	{"status_code": 200, "headers": {"Content-Type": "application/json"}, "body": "…",
//	 "json": {…}, "elapsed_ms": 12, "url": "https://final/url/after/redirects"}
//
// where repeated headers are joined with ", ", json is the parsed body when the response says
// it is JSON (application/json or a +json type) and the body is whole and valid (else null),
// a non-UTF-8 body is base64 with "body_encoding": "base64", and a body past Config.OutputCap is
// cut with "body_truncated": true. No response (refused, DNS, TLS, too many redirects) fails the
// run with the reason and exit code 1; the timeout parameter or the action's timeout passing
// times it out (exit code -1). Invalid parameters fail the run before any request is made, with
// a message naming the parameter and never quoting a credential.
//
// # Process lifetime
//
// Every process runs in its own process group. On timeout or cancellation the whole group gets
// SIGTERM and, Config.KillGrace later, SIGKILL. A run ends when the action's process exits: any
// process it left behind in its group is terminated the same way.
//
// On Linux the worker process also makes itself a child subreaper (PR_SET_CHILD_SUBREAPER) at
// its first run, so that a process an action detaches (setsid, a double fork) is reparented to
// the worker rather than to init when its parent exits. Every run's processes carry
// ATTUNE_RUN_ID=<random> in their environment; when the run ends, however it ends, each child of
// the worker that carries the run's id in its initial environment (/proc/PID/environ) is killed
// with SIGKILL together with all its descendants, whatever their environment, and reaped. The
// kernel gives orphans to the subreaper's main thread, so the worker reads that one list of
// children (/proc/self/task/<pid>/children) once per run, not one list per thread. The
// worker also reaps the zombies reparented to it, without taking an exit status that os/exec
// waits for: only members of an action's process group other than its leader, processes in
// another session than the worker's, and processes it killed itself. Nothing can outlive its run
// this way except a process that both cleared its environment (env -i) and detached before its
// parent exited, and, when the worker itself is killed with SIGKILL, what had detached from the
// group (the watchdog below kills only the group).
//
// Entry points are checked just before they are run (see entryPoints.materialise): a private
// directory, a regular file of the worker's user that nobody else may write, reached without a
// symlink, with exactly the action's content. Between that check and the interpreter opening the
// file only the worker's own user (or root) could change it, and that user could change the
// worker itself.
//
// An action is one process, its interpreter, started in its own process group. On Linux it is
// started with Pdeathsig = SIGKILL, so it dies with a crashed worker. The kernel sends that signal
// when the thread that started the child exits, not the process, and the Go runtime does retire
// threads (a goroutine that exits while locked to its thread takes the thread with it). Locking
// the thread only around the start would not be enough, since the thread could be handed to such
// a goroutine afterwards, so the goroutine that starts the process stays locked to its thread
// until the process has been waited for. That costs nothing extra: waiting blocks a thread
// anyway. Pdeathsig reaches only the action's own process, not what it started, so each group is
// also told to the worker's watchdog (see watchdog): one sh per worker, in its own process group,
// that reads the running groups from a pipe and SIGKILLs the ones still listed when the pipe
// closes, that is when the worker is gone.
//
// The package needs a Unix host; process-group handling is Linux-tested.
package runtimes
