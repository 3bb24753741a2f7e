"""The winner's token metadata, built from the store alone.

``close_round`` mints with this metadata's URI and ``export_round`` writes the same
metadata into the public record, so a verifier can hash it, compare the hash with
the token URI on chain and read the round commitment from it (core.commitment,
docs/decisions/0051). Everything in it is fixed once the round is tallied, so every
rerun of a step builds the same bytes.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tastemaker.chain.card import text_card
from tastemaker.chain.metadata import WorkMetadata
from tastemaker.core.commitment import RoundCommitment
from tastemaker.core.media import IMAGE_PNG, extension, is_text
from tastemaker.store.media import MediaStore
from tastemaker.store.tables import GenomeRow, PoolEntry, Round, TallyRowRecord, VoteRow, Work


def pool_order(session: Session, number: int) -> list[bytes]:
    return list(
        session.scalars(
            select(PoolEntry.work).where(PoolEntry.round == number).order_by(PoolEntry.position)
        )
    )


def round_commitment(session: Session, round_: Round) -> RoundCommitment:
    """The commitment to every vote received and the other inputs of the tally."""
    from tastemaker.rounds.service import impression_counts  # service imports this module

    if round_.open_block is None or round_.close_block is None:
        raise ValueError(f"round {round_.number} has no block window yet")
    vote_ids = list(session.scalars(select(VoteRow.id).where(VoteRow.round == round_.number)))
    return RoundCommitment.of(
        vote_ids,
        round_.open_block,
        round_.close_block,
        pool_order(session, round_.number),
        impression_counts(session, round_.number),
        round_.rules,
    )


def winner_metadata(
    session: Session, round_: Round, media: MediaStore | None = None
) -> WorkMetadata:
    """The token metadata of round ``round_``'s winner, with the round commitment.

    A text work's metadata carries its text and points ``image`` at a card rendered
    from it (``chain.card``, deterministic) and stored beside it: that needs ``media``."""
    winner = round_.winner
    if winner is None:
        raise ValueError(f"round {round_.number} has no winner")
    number = round_.number
    voters = session.scalar(
        select(TallyRowRecord.voters).where(
            TallyRowRecord.round == number, TallyRowRecord.work == winner
        )
    )
    work = session.get(Work, winner)
    genome = session.get(GenomeRow, work.genome_id) if work is not None else None
    media_type = work.media_type if work is not None else IMAGE_PNG
    text, image = None, f"ipfs://{work.cid if work else ''}"
    if work is not None and is_text(media_type):
        if media is None:
            raise ValueError(
                f"round {number}'s winner is a text work: its metadata needs the media"
            )
        text = media.get_bytes(work.cid, extension(media_type)).decode("utf-8")
        card = media.put_bytes(text_card(text, f"Tastemaker · round {number}"), "png")
        image = f"ipfs://{card.cid}"
    return WorkMetadata(
        name=f"Tastemaker round {number}",
        description=f"The community's pick of round {number}.",
        image=image,
        round=number,
        # The engine that made the work (its genome's), so the store alone rebuilds this.
        engine=genome.engine if genome is not None else "",
        genome_hash="0x" + (work.genome_id if work else ""),
        content_hash="0x" + winner.hex(),
        votes=int(voters or 0),
        media_type=media_type,
        text=text,
        extra=tuple(round_commitment(session, round_).attributes()),
    )
