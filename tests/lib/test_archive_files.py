"""lib.archive_files: appends are recorded exactly, so an import can journal and undo them."""

from lib import archive_files
from lib.archive_files import Appended


def test_appends_inside_the_block_are_recorded_with_the_bytes_they_wrote(archive_root):
    archive_files.append_creating("users/a.txt", header="Header\n\n", text="one\n")
    with archive_files.recording_appends() as appended:
        archive_files.append_creating("users/a.txt", header="Header\n\n", text="twö\n")
        archive_files.append_creating("users/b.txt", header="Header\n\n", text="three\n")
        archive_files.append("users/b.txt", "four\n")
    archive_files.append("users/b.txt", "after the block\n")

    assert appended == [
        Appended("users/a.txt", 12, 17),  # "twö\n" is five bytes
        Appended("users/b.txt", None, 14),  # created by the block: header and line in one write
        Appended("users/b.txt", 14, 19),
    ]
    assert (archive_root / "users/b.txt").read_bytes()[14:19] == b"four\n"


def test_nested_blocks_each_see_the_appends_made_inside_them(archive_root):
    archive_files.append_creating("x.txt", header="", text="")
    with archive_files.recording_appends() as outer:
        archive_files.append("x.txt", "a\n")
        with archive_files.recording_appends() as inner:
            archive_files.append("x.txt", "b\n")
    assert outer == [Appended("x.txt", 0, 2), Appended("x.txt", 2, 4)]
    assert inner == [Appended("x.txt", 2, 4)]
