import io
import zlib

import numpy as np
import pytest
from PIL import Image

from tastemaker.errors import MediaError
from tastemaker.store.media import MediaStore, cid_for_bytes, encode_png


def test_cid_matches_ipfs_raw_leaf_cid() -> None:
    # `ipfs add --cid-version 1 --raw-leaves` of the bytes "hello"
    assert cid_for_bytes(b"hello") == "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"


def test_cid_fast_path_agrees_with_the_multiformats_library() -> None:
    import hashlib

    from multiformats import CID

    rng = np.random.default_rng(3)
    for size in (0, 1, 31, 32, 33, 1000, 70_000):
        data = rng.bytes(size)
        expected = CID("base32", 1, "raw", ("sha2-256", hashlib.sha256(data).digest()))
        assert cid_for_bytes(data) == str(expected)
        assert CID.decode(cid_for_bytes(data)) == expected


def test_png_decodes_to_the_same_pixels() -> None:
    image = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    data = encode_png(image)
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(decoded, image)
    assert encode_png(image) == data  # no timestamps: same pixels, same bytes


def test_png_with_zlibs_rle_strategy_decodes_to_the_same_pixels() -> None:
    image = np.zeros((40, 30, 3), dtype=np.uint8)
    image[10:20, 5:25] = np.random.default_rng(3).integers(0, 256, (10, 20, 3), dtype=np.uint8)
    rle = encode_png(image, zlib.Z_RLE)
    assert rle != encode_png(image)  # other bytes: an engine version picks one
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(rle)).convert("RGB")), image)
    assert encode_png(image, zlib.Z_DEFAULT_STRATEGY) == encode_png(image)


def test_png_refuses_non_rgb_arrays() -> None:
    with pytest.raises(MediaError, match="expected an RGB uint8 image"):
        encode_png(np.zeros((4, 4), dtype=np.uint8))


def test_store_is_content_addressed_and_idempotent(tmp_path) -> None:
    store = MediaStore(tmp_path)
    image = np.full((8, 8, 3), 200, dtype=np.uint8)
    first = store.put_image(image)
    second = store.put_image(image)
    assert first == second
    assert first.path.name == f"{first.cid}.png"
    assert store.get_bytes(first.cid) == first.path.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [first.path.name]  # no temp files left


def test_store_detects_corruption_and_missing_media(tmp_path) -> None:
    store = MediaStore(tmp_path)
    stored = store.put_bytes(b"some bytes", "bin")
    stored.path.write_bytes(b"tampered")
    with pytest.raises(MediaError, match="corrupt"):
        store.get_bytes(stored.cid, "bin")
    with pytest.raises(MediaError, match="no media with cid"):
        store.get_bytes("bafkreiabsent", "png")


def test_staged_media_becomes_a_file_only_when_committed(tmp_path) -> None:
    store = MediaStore(tmp_path)
    kept, dropped = store.stage(b"kept"), store.stage(b"dropped")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == []
    stored = store.commit(kept)
    store.discard(dropped)
    assert stored.cid == cid_for_bytes(b"kept") and stored.path.read_bytes() == b"kept"
    assert store.get_bytes(stored.cid) == b"kept"
    leftover = store.stage(b"interrupted")
    store.discard_all_staged()
    assert not leftover.temp.exists()
    assert [p.name for p in tmp_path.iterdir()] == [stored.path.name]


def test_bad_digests_and_unwritable_stores_are_refused(tmp_path) -> None:
    from tastemaker.store.media import cid_for_digest

    with pytest.raises(ValueError, match="32 bytes"):
        cid_for_digest(b"short")
    with pytest.raises(MediaError, match="cannot write to"):
        MediaStore(tmp_path / "missing").stage(b"data")
