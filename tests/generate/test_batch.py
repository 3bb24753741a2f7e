import json

import pytest

from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate.batch import (
    MANIFEST,
    generate_works,
    load_genomes,
    read_manifest,
)
from tastemaker.generate.genome import canonical_json
from tastemaker.store.media import cid_for_bytes


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_same_works_whatever_the_worker_count(tmp_path) -> None:
    one = generate_works(40, 64, 11, tmp_path / "one", workers=1)
    two = generate_works(40, 64, 11, tmp_path / "two", workers=2)
    assert one == two
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    # Workers stage every candidate's file; none of the discarded ones is left behind.
    assert len(_files(tmp_path / "two")) == 41 and not any(
        name.startswith(".") for name in _files(tmp_path / "two")
    )
    other = generate_works(40, 64, 12, tmp_path / "other", workers=1)
    assert {r.id for r in other}.isdisjoint({r.id for r in one})


def test_manifest_lines_describe_each_work(tmp_path) -> None:
    records = generate_works(5, 48, 1, tmp_path)
    assert read_manifest(tmp_path / MANIFEST) == records
    for record in records:
        data = (tmp_path / record.file).read_bytes()
        assert record.cid == cid_for_bytes(data)
        assert record.engine == "cppn" and record.size == 48 and record.parents == []
        assert record.to_genome().id == record.id
    assert len({r.id for r in records}) == len({r.cid for r in records}) == 5


def test_children_of_parents_name_them(tmp_path) -> None:
    parents = generate_works(4, 32, 2, tmp_path / "parents")
    parent_ids = {r.id for r in parents}
    genomes = load_genomes(tmp_path / "parents" / MANIFEST)
    children = generate_works(30, 32, 3, tmp_path / "children", parents=genomes)
    bred = [c for c in children if c.parents]
    assert len(bred) > len(children) // 2
    assert all(set(c.parents) <= parent_ids for c in bred)


def test_load_genomes_reads_lists_and_single_genomes(tmp_path) -> None:
    records = generate_works(2, 32, 4, tmp_path / "w")
    genomes = [r.to_genome() for r in records]
    as_list = tmp_path / "list.json"
    as_list.write_text(json.dumps([g.to_json() for g in genomes]))
    one = tmp_path / "one.json"
    one.write_text(json.dumps(genomes[0].to_json(), indent=2))
    assert load_genomes(as_list) == genomes
    assert load_genomes(one) == genomes[:1]


@pytest.mark.parametrize("text", ["", "{broken", '[{"engine": "cppn"}]'])
def test_load_genomes_refuses_bad_files(tmp_path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(GenomeError):
        load_genomes(path)


def test_bad_arguments_fail_before_any_output(tmp_path) -> None:
    out = tmp_path / "out"
    with pytest.raises(UsageError, match="size must be between"):
        generate_works(3, 0, 1, out)
    with pytest.raises(UsageError, match="count must be positive"):
        generate_works(0, 32, 1, out)
    with pytest.raises(UsageError, match="unknown engine"):
        generate_works(3, 32, 1, out, engine_name="nope")
    assert not out.exists()


def test_invalid_parent_genome_is_refused(tmp_path) -> None:
    records = generate_works(1, 32, 5, tmp_path / "w")
    genome = records[0].to_genome()
    genome.data["coords"]["symmetry"] = "spiral"
    with pytest.raises(GenomeError, match="symmetry"):
        generate_works(3, 32, 1, tmp_path / "out", parents=[genome])
    assert canonical_json(genome.data)  # the parent itself is left as it was given
