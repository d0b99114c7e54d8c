"""``liandong backup dump|restore``: a logical backup of the district's MongoDB databases.

Production backs up with MongoDB's own ``mongodump --oplog`` (the CronJob in
``deploy/k8s/base/backup.yaml``, the ``backup`` profile in compose), which is consistent to
one point in time across databases. This command does the same copy at the driver level for
where the database tools are not installed (this project's development and CI machines; the
test suite proves the backup → wipe → restore → verify procedure with it): every document of
every collection of the three services' databases (GridFS's ``files.files`` and
``files.chunks`` included) as BSON, and each collection's index definitions. It writes
mongodump's directory layout (``<database>/<collection>.bson`` plus
``<collection>.metadata.json``). Without the oplog it is consistent only when the services
are stopped (or idle), which is how the restore procedure in docs/operations.md uses it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from kernel.settings import Settings

backup_app = typer.Typer(help="Logical backup and restore of the district's databases.")

SERVICES = ("referral", "coordination", "notify")


def _client(settings: Settings) -> Any:
    from pymongo import AsyncMongoClient

    return AsyncMongoClient(settings.mongo_url, tz_aware=False)


async def dump(settings: Settings, out: Path) -> dict[str, int]:
    """Write every collection of the services' databases under ``out``; documents per db."""
    import bson

    client = _client(settings)
    counts: dict[str, int] = {}
    try:
        for service in SERVICES:
            name = settings.database_name(service)
            db = client[name]
            folder = out / name
            folder.mkdir(parents=True, exist_ok=True)
            counts[name] = 0
            for coll_name in sorted(await db.list_collection_names()):
                coll = db[coll_name]
                with (folder / f"{coll_name}.bson").open("wb") as f:
                    async for doc in coll.find({}, sort=[("_id", 1)]):
                        f.write(bson.encode(doc))
                        counts[name] += 1
                indexes = [
                    {k: v for k, v in spec.items() if k != "ns"}
                    for spec in await (await coll.list_indexes()).to_list()
                ]
                meta = {"collectionName": coll_name, "indexes": indexes}
                (folder / f"{coll_name}.metadata.json").write_text(
                    json.dumps(meta, default=str, sort_keys=True), encoding="utf-8"
                )
    finally:
        await client.close()
    return counts


async def restore(settings: Settings, source: Path, *, drop: bool = False) -> dict[str, int]:
    """Load a dump into the services' databases (refusing non-empty ones unless ``drop``)."""
    import bson

    client = _client(settings)
    counts: dict[str, int] = {}
    try:
        for service in SERVICES:
            name = settings.database_name(service)
            folder = source / name
            if not folder.is_dir():
                raise FileNotFoundError(f"{folder}: no dump of database {name}")
            db = client[name]
            existing = await db.list_collection_names()
            if existing and not drop:
                raise RuntimeError(
                    f"database {name} is not empty ({len(existing)} collections); restore "
                    "into an empty database or pass --drop"
                )
            if drop:
                await client.drop_database(name)
            counts[name] = 0
            for meta_path in sorted(folder.glob("*.metadata.json")):
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
                coll = db[meta["collectionName"]]
                for spec in meta["indexes"]:
                    if spec["name"] == "_id_":
                        continue
                    options = {k: v for k, v in spec.items() if k not in {"key", "v"}}
                    await coll.create_index(list(spec["key"].items()), **options)
                data = (folder / f"{meta['collectionName']}.bson").read_bytes()
                docs = bson.decode_all(data)
                for start in range(0, len(docs), 500):
                    await coll.insert_many(docs[start : start + 500], ordered=True)
                counts[name] += len(docs)
    finally:
        await client.close()
    return counts


@backup_app.command("dump")
def dump_command(out: Annotated[Path, typer.Option(help="directory to write")]) -> None:
    """Dump the three services' databases (settings from LIANDONG_*)."""
    from kernel.settings import Settings

    counts = asyncio.run(dump(Settings(), out))
    for name, n in counts.items():
        typer.echo(f"{name}: {n} documents")


@backup_app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Option("--from", help="a directory written by dump")],
    drop: Annotated[bool, typer.Option(help="drop the databases first")] = False,
) -> None:
    """Restore the three services' databases from a dump."""
    from kernel.settings import Settings

    counts = asyncio.run(restore(Settings(), source, drop=drop))
    for name, n in counts.items():
        typer.echo(f"{name}: {n} documents restored")
