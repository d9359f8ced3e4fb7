"""Optional upload of a sealed delivery to the merchant's SFTP server (asyncssh).

The server's host key must be in the connection settings (`ledger.asperion.sftp.host_key`,
OpenSSH public key format) and is the only key accepted: no known_hosts file, no
trust-on-first-use. Credentials (`password` and/or `private_key`) are decrypted only here,
in memory. The file is written under a temporary name and renamed when complete, so
whoever watches the directory never reads half a ZIP; uploading the same delivery again
replaces the file with the same bytes.
"""

from __future__ import annotations

import asyncio
import posixpath

import asyncssh
from koppel_chassis import SecretBox
from koppel_contracts import SftpTarget


class SftpRefused(Exception):
    """The upload cannot work with these settings (no host key, no credentials)."""


def _client_keys(target: SftpTarget, box: SecretBox) -> list[asyncssh.SSHKey] | None:
    secret = target.credentials.get("private_key")
    if secret is None:
        return None
    return [asyncssh.import_private_key(box.decrypt(secret).get_secret_value())]


async def upload(
    target: SftpTarget, name: str, data: bytes, *, box: SecretBox, timeout: float
) -> str:
    """Put `data` as `<directory>/<name>` on the target; the remote path."""
    if not target.host_key:
        raise SftpRefused("ledger.asperion.sftp.host_key is missing: the server cannot be verified")
    if not target.credentials:
        raise SftpRefused("ledger.asperion.sftp.credentials: a password or private_key is needed")
    host_key = asyncssh.import_public_key(target.host_key)
    password = target.credentials.get("password")
    remote = posixpath.join(target.directory or "/", name)
    partial = posixpath.join(target.directory or "/", f".{name}.part")
    async with asyncio.timeout(timeout):
        async with (
            asyncssh.connect(
                target.host,
                port=target.port,
                username=target.username,
                password=box.decrypt(password).get_secret_value() if password else None,
                client_keys=_client_keys(target, box),
                known_hosts=([host_key], [], []),
                agent_path=None,
                config=[],
            ) as connection,
            connection.start_sftp_client() as sftp,
        ):
            async with sftp.open(partial, "wb") as handle:
                await handle.write(data)
            if await sftp.exists(remote):
                await sftp.remove(remote)  # plain SFTP rename refuses an existing target
            await sftp.rename(partial, remote)
    return remote
