"""SQL for what several hosts share beside the stories (the store's SharedLibrary): uploaded
story files, the host whose folder holds each folder story, and removals."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.interface import Upload
from bot.store.postgres.base import PGBase


class HostSQL(PGBase):
    async def uploads(self) -> dict[str, Upload]:
        rows = await self._all(
            "SELECT file, size, (extract(epoch FROM added) * 1000000)::bigint, hash"
            " FROM uploads WHERE removed IS NULL"
        )
        return {r[0]: Upload(r[0], r[1], r[2] * 1000, r[3]) for r in rows}

    async def upload_data(self, file: str) -> bytes | None:
        return await self._value(
            "SELECT data FROM uploads WHERE file = $1 AND removed IS NULL", file
        )

    async def save_upload(self, file: str, data: bytes, digest: str) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO uploads (file, data, size, hash, added) VALUES ($1, $2, $3, $4,"
                " clock_timestamp()) ON CONFLICT (file) DO UPDATE SET data = excluded.data,"
                " size = excluded.size, hash = excluded.hash, added = excluded.added,"
                " removed = NULL",
                file,
                data,
                len(data),
                digest,
            )
            await conn.execute("DELETE FROM removals WHERE file = $1", file)

    async def remove_upload(self, file: str) -> bool:
        return bool(
            await self._execute(
                "UPDATE uploads SET removed = now() WHERE file = $1 AND removed IS NULL", file
            )
        )

    async def folder_hosts(self) -> dict[str, str]:
        return {r[0]: r[1] for r in await self._all("SELECT file, host FROM stories")}

    async def set_folder_host(self, host: str, files: Sequence[str]) -> None:
        if files:
            await self._execute(
                "UPDATE stories SET host = $1 WHERE file = ANY($2) AND host <> $1",
                host,
                list(files),
            )

    async def removals(self) -> dict[str, str]:
        return {r[0]: r[1] for r in await self._all("SELECT file, hash FROM removals")}

    async def record_removal(self, file: str, digest: str) -> None:
        await self._execute(
            "INSERT INTO removals (file, hash) VALUES ($1, $2)"
            " ON CONFLICT (file) DO UPDATE SET hash = excluded.hash, removed = now()",
            file,
            digest,
        )

    async def forget_removals(self, files: Sequence[str]) -> None:
        if files:
            await self._execute("DELETE FROM removals WHERE file = ANY($1)", list(files))
