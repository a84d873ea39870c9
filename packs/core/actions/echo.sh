#!/bin/sh
# core.echo: print the message parameter, followed by a newline.
#
# Parameters arrive on stdin as a dotenv document (parameter_format: dotenv), one assignment per
# line, for example:
#
#   message='it'\''s a test'
#
# eval is safe here because the runtime writes nothing but NAME='value' lines: every NAME is a
# shell variable name, and every value is wrapped in single quotes with each ' written as '\''.
# Inside single quotes the shell expands nothing, so $(...), `...`, $VAR and ; in a value stay
# literal text: evaluating the document only assigns variables.
#
# The document is read with the shell's own `read` (a quoted value may span lines), not with
# "$(cat)", which would cost a subshell and a cat process on every run.
message=''
params=''
while IFS= read -r line || [ -n "$line" ]; do
	params="$params$line
"
done
eval "$params"
printf '%s\n' "$message"
