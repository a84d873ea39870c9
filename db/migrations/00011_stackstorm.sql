-- +goose Up
-- StackStorm action names may hold dots: ansible.galaxy.install is action galaxy.install of pack
-- ansible. The pack is the part of a ref before its first dot.
ALTER TABLE attune.action DROP CONSTRAINT action_ref_check;
ALTER TABLE attune.action ADD CONSTRAINT action_ref_check
    CHECK (ref ~ '^[^.]+\.[^.]+(\.[^.]+)*$');

-- +goose Down
DELETE FROM attune.action WHERE ref ~ '^[^.]+\.[^.]+\.';
ALTER TABLE attune.action DROP CONSTRAINT action_ref_check;
ALTER TABLE attune.action ADD CONSTRAINT action_ref_check CHECK (ref ~ '^[^.]+\.[^.]+$');
