"""How much of a delivery a reader may hold at once, whatever the file holds.

The format bounds a transaction (a few short values) but not what a file may
put around it: an unknown element with a large content, a Person with a
hundred thousand transactions, a CSV row of millions of separators, a large
value under an unknown JSON key. A reader that held such a thing whole would
need many times the file's size in memory. So every reader holds at most the
amounts below: what it need not read (the content of an unknown element, the
value under an unknown key) it skips as it comes, and what it must read whole
but cannot hold it refuses, with a code of its own, so that the supplier
knows what to change. The limits lie far above anything a real delivery has.
"""

from __future__ import annotations

#: The most bytes one Person may take in an XML or JSON file (a real one takes
#: a few hundred per transaction, so this is about 10,000 transactions or more).
#: A Person is read whole, so a larger one refuses the file: FILE_PERSON_TOO_LARGE.
MAX_PERSON_BYTES = 4_000_000

#: The most elements the XML reader holds in one place until it reports them
#: (unknown or repeated ones, emptied): the children of Leverans or of a Kommun,
#: or those of a Kommunlista or Personlista between two of its items (which are
#: let go as they are read). More refuse the file: FILE_TOO_MANY_ELEMENTS.
MAX_HELD_ELEMENTS = 10_000

#: The most characters of a JSON key, or of a Kommun's value in JSON: more
#: refuse the file (FILE_VALUE_TOO_LARGE). The format's longest value is 100.
MAX_VALUE_CHARS = 10_000

#: A value under a JSON key the format does not have is decoded (and so
#: checked as JSON) up to this many characters; a larger one is skipped
#: unread, only its brackets and strings followed to find its end.
SKIP_UNREAD_FROM = 1_000_000

#: The most characters of one CSV row (a real one has a few hundred): more
#: refuse the file (FILE_CSV_ROW_TOO_LONG).
MAX_CSV_ROW_CHARS = 10_000
