"""Work metadata: marketplace fields and a content-addressed, stable URI."""

from tastemaker.chain.metadata import MAX_URI_LENGTH, WorkMetadata


def _meta(**change) -> WorkMetadata:
    fields = dict(
        name="Round 3 winner",
        description="Chosen by the community in round 3.",
        image="ipfs://bafkreia",
        round=3,
        engine="cppn",
        genome_hash="0x" + "11" * 32,
        content_hash="0x" + "22" * 32,
        votes=1234,
    )
    return WorkMetadata(**{**fields, **change})


def test_marketplace_fields():
    data = _meta().to_json()
    assert {"name", "description", "image", "attributes"} <= data.keys()
    traits = {a["trait_type"]: a["value"] for a in data["attributes"]}
    assert traits == {
        "round": 3,
        "engine": "cppn",
        "genome hash": "0x" + "11" * 32,
        "content hash": "0x" + "22" * 32,
        "votes": 1234,
    }


def test_uri_is_stable_and_depends_on_content():
    assert _meta().uri() == _meta().uri()
    assert _meta().uri() != _meta(votes=1235).uri()
    assert _meta().uri().startswith("ipfs://b")
    assert len(_meta().uri()) <= MAX_URI_LENGTH
