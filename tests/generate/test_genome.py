import json

import pytest

from tastemaker.errors import GenomeError
from tastemaker.generate.genome import Genome, canonical_json


def test_id_depends_on_recipe_not_key_order_or_parents() -> None:
    a = Genome("cppn", {"x": 1, "y": [1, 2]}, parents=("p",))
    b = Genome("cppn", json.loads('{"y": [1, 2], "x": 1}'))
    assert a.id == b.id
    assert len(a.id) == 64
    assert Genome("cppn", {"x": 2, "y": [1, 2]}).id != a.id
    assert Genome("other", {"x": 1, "y": [1, 2]}).id != a.id


def test_json_round_trip() -> None:
    genome = Genome("cppn", {"k": [1.5, "a"]}, parents=("a", "b"))
    assert Genome.loads(canonical_json(genome.to_json())) == genome


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "malformed genome JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"engine": "cppn"}', "missing data"),
        ('{"engine": 3, "data": {}}', "'engine' must be a string"),
        ('{"engine": "cppn", "data": {}, "parents": [1]}', "'parents' must be a list"),
    ],
)
def test_malformed_genomes_are_refused(text: str, message: str) -> None:
    with pytest.raises(GenomeError, match=message):
        Genome.loads(text)
