-- +goose Up
-- StackStorm action names may hold dots: ansible.galaxy.install is action galaxy.install of pack
-- ansible. The pack is the part of a ref before its first dot.
ALTER TABLE attune.action DROP CONSTRAINT action_ref_check;
ALTER TABLE attune.action ADD CONSTRAINT action_ref_check
    CHECK (ref ~ '^[^.]+\.[^.]+(\.[^.]+)*$');
-- StackStorm's runners, by their names (see runtimes/st2.go).
INSERT INTO attune.runtime (name, description, in_process) VALUES
    ('local-shell-cmd', 'StackStorm local-shell-cmd: the cmd parameter, templates filled with shell-quoted values, run by /bin/sh', false),
    ('local-shell-script', 'StackStorm local-shell-script: <entry_point> --name=value... positional...; secrets on stdin', false),
    ('python-script', 'StackStorm python-script: the Action subclass of <entry_point> run by attune''s st2common module', false);
-- Files a python-script action's entry point needs beside it (actions/lib/**/*.py), by path
-- relative to actions/, content base64.
ALTER TABLE attune.action ADD COLUMN files jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE attune.action DROP COLUMN files;
DELETE FROM attune.action WHERE runtime IN ('local-shell-cmd', 'local-shell-script', 'python-script');
DELETE FROM attune.runtime WHERE name IN ('local-shell-cmd', 'local-shell-script', 'python-script');
DELETE FROM attune.action WHERE ref ~ '^[^.]+\.[^.]+\.';
ALTER TABLE attune.action DROP CONSTRAINT action_ref_check;
ALTER TABLE attune.action ADD CONSTRAINT action_ref_check CHECK (ref ~ '^[^.]+\.[^.]+$');
