"""Embedded adapter of the store port: a durable document store in one SQLite file.

Used by the embedded topology (everything in one process, no servers). Passes the same
contract suite as the MongoDB adapter (``tests/contract/test_store_contract.py``).

Layout
    One SQLite file per database, ``<data_dir>/<database>.sqlite3``, in WAL mode with
    ``synchronous=FULL`` (a returned write survives a crash or power loss). One table per
    collection, ``(id TEXT PRIMARY KEY, doc TEXT)``: ``id`` is the document's ``_id`` and
    ``doc`` the rest of the document as JSON. The implicit ``rowid`` keeps insertion order,
    which stands in for MongoDB's natural order (first match, ties in a sort).

Values
    JSON natively, except two cases carried in tagged JSON strings (the tag starts with
    U+0001, a character real text practically never starts with):

    * ``datetime`` → ``"\\u0001d:YYYY-MM-DDTHH:MM:SS.mmmZ"``: UTC, truncated to milliseconds
      like BSON dates, fixed width, so string order *is* time order and filters and sorts on
      datetimes run in SQL. Naive datetimes are taken as UTC (as PyMongo does); they read
      back as aware UTC datetimes.
    * a string that itself starts with U+0001 → ``"\\u0001s:" + string`` (escaped so it can
      never be mistaken for a datetime).

Filters and sorts
    Translated to SQL over ``json_extract``/``json_type``/``json_each`` (see ``_SqlFilter``),
    with MongoDB's semantics for the port's subset: type-bracketed comparisons (``{"n":
    {"$gt": 1}}`` never matches a string or a boolean), equality against arrays matches any
    element, dotted paths traverse arrays of sub-documents, ``null`` matches missing fields,
    negations (``$ne``, ``$nin``, ``$exists: false``) match documents missing the field.
    Sorts run in SQL on the raw JSON values (SQLite order: null/missing < numbers < text);
    unlike MongoDB, an array field sorts by its JSON text, not by its smallest element.

Indexes
    ``create_index`` makes SQLite expression indexes on ``json_extract(doc, path)``, plus a
    tiny partial index per path "where this path holds an array", so that the array branch
    of a filter is also an index lookup and SQLite can use a MULTI-INDEX OR plan. A unique
    index treats a missing field as distinct from every other value (like FerretDB, unlike
    MongoDB, where two documents missing a unique field collide) and indexes an array value
    as a whole (MongoDB indexes each element): keep unique fields present and scalar.

Updates
    Atomic read-modify-write: ``BEGIN IMMEDIATE``, select, apply the update operators in
    Python (``apply_update``), write, ``COMMIT``. The write lock is taken before the read, so
    conditional updates (optimistic concurrency, lease claims) have exactly one winner, also
    across several processes or store objects on the same file.

Threads
    Every SQLite call runs on the store's single worker thread, which owns the connection;
    the event loop only awaits futures. Calls run in submission order.

Files
    ``files()`` keeps contents under ``<data_dir>/<database>.files/objects/<ab>/<sha256>``
    (content-addressed: the same content is stored once) and each file's record (id, name,
    media type, size, digest, metadata) as a document of the collection ``_files``. A put
    streams into ``tmp/``, fsyncs, and renames into place only once the whole content is
    there and checked, so a crash never leaves a half file under an object path (at most an
    orphaned temp file or object, never a record pointing at a partial content). Record
    insert and object removal run under one lock, so a delete never removes an object that
    a concurrent put of the same content is about to reference (one process per data
    directory, as the embedded topology runs).

Modules
    ``codec`` the value encoding; ``sql`` filters and sorts in SQL; ``connection`` the
    SQLite file, its worker thread and write transactions; ``collection`` the document
    operations and indexes; ``files`` the file store; ``store`` the store and
    :func:`open_embedded_store`. Import from ``kernel.adapters.embedded_store``.

The port's query and update language in pure Python lives in ``kernel.store_language``,
shared with ``kernel.adapters.mongo_store``.
"""

from __future__ import annotations

from kernel.adapters.embedded_store.collection import EmbeddedCollection
from kernel.adapters.embedded_store.files import EmbeddedFileStore
from kernel.adapters.embedded_store.store import EmbeddedStore, open_embedded_store

__all__ = [
    "EmbeddedCollection",
    "EmbeddedFileStore",
    "EmbeddedStore",
    "open_embedded_store",
]
