#!/bin/sh
# core.sleep: sleep for `seconds` seconds (0-3600), printing `message` first when it is set.
#
# Parameters arrive on stdin as a dotenv document (parameter_format: dotenv), one assignment per
# line, for example:
#
#   seconds='5'
#   message='it'\''s a test'
#
# eval is safe here because the runtime writes nothing but NAME='value' lines: every NAME is a
# shell variable name, and every value is wrapped in single quotes with each ' written as '\''.
# Inside single quotes the shell expands nothing, so $(...), `...`, $VAR and ; in a value stay
# literal text: evaluating the document only assigns variables.
#
# The document is read with the shell's own `read` (a quoted value may span lines), not with
# "$(cat)", which would cost a subshell and a cat process on every run.
seconds=''
message=''
params=''
while IFS= read -r line || [ -n "$line" ]; do
	params="$params$line
"
done
eval "$params"

case "$seconds" in
'' | *[!0-9]*)
	printf 'core.sleep: seconds must be a whole number from 0 to 3600, got "%s"\n' "$seconds" >&2
	exit 1
	;;
esac
# Check the length first, so a huge number cannot overflow the -gt test.
if [ "${#seconds}" -gt 4 ] || [ "$seconds" -gt 3600 ]; then
	printf 'core.sleep: seconds must be a whole number from 0 to 3600, got "%s"\n' "$seconds" >&2
	exit 1
fi

if [ -n "$message" ]; then
	printf '%s\n' "$message"
fi
# sleep runs in the foreground: on timeout or cancel the runtime kills the whole process group,
# so the action stops at once instead of waiting for a background sleep.
sleep "$seconds"
printf 'Slept for %s seconds\n' "$seconds"
