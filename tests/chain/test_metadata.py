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
        "media type": "image/png",
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


def test_a_text_work_keeps_its_text_and_shows_a_card():
    data = _meta(media_type="text/plain", text="Why did the <b>chicken</b> cross?").to_json()
    assert data["description"] == data["text"] == "Why did the <b>chicken</b> cross?"
    assert data["image"] == "ipfs://bafkreia"  # the card's URI, chosen by the caller
    traits = {a["trait_type"]: a["value"] for a in data["attributes"]}
    assert traits["media type"] == "text/plain"


def test_text_card_is_a_deterministic_png():
    import io

    from PIL import Image

    from tastemaker.chain.card import SIZE, text_card

    long_text = "A very long joke. " * 400 + "x" * 300  # wraps, truncates, breaks a long word
    card = text_card(long_text, "Tastemaker · round 1")
    assert card == text_card(long_text, "Tastemaker · round 1")
    assert Image.open(io.BytesIO(card)).size == (SIZE, SIZE)
    assert card != text_card("Another joke.", "Tastemaker · round 1")
