"""Shards: stretches of an XML file's bytes, read by processes of their own.

Each item read belongs to one parser event (a Person or a Kommun ending, or the
end of the file), and an event belongs to the shard in whose stretch the
parser stood when it came, so the shards' items one after the other are the
items of the whole file in order (``inuk.format.readers.xml`` reads a shard,
``inuk.format.report`` starts the processes and joins their reports).
"""

from __future__ import annotations

from .streams import CHUNK_SIZE


class Unshardable(Exception):
    """The file cannot be read in shards: a Kommun's values stand after its Personlista.

    Its records must then wait for those values, across persons of every
    shard; such a file is read whole, by one process.
    """


class Shard:
    """The stretch of a file's bytes, from ``start`` (exclusive) to ``end``
    (inclusive, ``None`` for the end of the file), whose items one reader reads.

    The parser is fed ``chunk_size`` bytes at a time, and an event belongs to
    the stretch holding the count of bytes fed when it came: every shard of a
    file must use the same ``chunk_size`` for the stretches to meet exactly.
    """

    def __init__(self, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE):
        if start < 0 or (end is not None and end < start) or chunk_size < 1:
            raise ValueError(f"a shard of bytes {start} to {end}, fed {chunk_size} at a time")
        self.start = start
        self.end = end
        self.chunk_size = chunk_size
        #: Bytes fed to the parser so far.
        self.fed = 0

    @property
    def owns_event(self) -> bool:
        """Whether the event the parser has just given belongs to this shard."""
        return self.start < self.fed and not self.past

    @property
    def past(self) -> bool:
        """Whether the parser has gone beyond this shard's stretch."""
        return self.end is not None and self.fed > self.end

    @property
    def last(self) -> bool:
        return self.end is None
