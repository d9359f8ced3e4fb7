"""The optional SFTP upload, against a real asyncssh SFTP server started by the test: the
host key is verified, credentials are decrypted only for the upload, the file appears
whole under the delivery's name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest
from koppel_chassis import SecretBox
from koppel_contracts import SftpTarget
from koppel_ledger.testing import CONNECTION
from koppel_ledger_asperion.sftp import SftpRefused, upload

from .asperion_helpers import demo_settings
from .conftest import Asperion

USER, PASSWORD = "koppel", "geheim-wachtwoord"


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return (username, password) == (USER, PASSWORD)


@dataclass
class Sftp:
    port: int
    root: Path
    host_key: str  # the server's public key, OpenSSH format
    client_key: asyncssh.SSHKey


@pytest.fixture
async def sftp_server(tmp_path: Path) -> AsyncIterator[Sftp]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "inbox").mkdir()

    def factory(channel: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(channel, chroot=str(tmp_path).encode())

    server = await asyncssh.create_server(
        _Server,
        "127.0.0.1",
        0,
        server_host_keys=[key],
        sftp_factory=factory,
        authorized_client_keys=asyncssh.import_authorized_keys(
            client_key.export_public_key().decode()
        ),
    )
    port = server.sockets[0].getsockname()[1]
    yield Sftp(port, tmp_path, key.export_public_key().decode().strip(), client_key)
    server.close()
    await server.wait_closed()


def target(sftp: Sftp, box: SecretBox, **changes) -> SftpTarget:
    values = {
        "host": "127.0.0.1",
        "port": sftp.port,
        "username": USER,
        "credentials": {"password": box.encrypt(PASSWORD)},
        "directory": "/inbox",
        "host_key": sftp.host_key,
    }
    values.update(changes)
    return SftpTarget(**values)


async def test_a_delivery_is_uploaded_whole_to_the_merchants_sftp_server(
    asperion: Asperion, sftp_server: Sftp
) -> None:
    box = SecretBox(asperion.secrets_key)
    await asperion.connect(demo_settings(sftp=target(sftp_server, box)))
    await asperion.order("u1")
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    uploaded = sftp_server.root / "inbox" / delivery.name
    assert uploaded.read_bytes() == await asperion.service.archive.content(delivery)
    assert [p.name for p in (sftp_server.root / "inbox").iterdir()] == [delivery.name]
    assert delivery.status["sftp"]["path"] == f"/inbox/{delivery.name}"
    await asperion.service.resend(delivery.id)  # again: the same file, the same bytes
    assert uploaded.read_bytes() == await asperion.service.archive.content(delivery)


async def test_a_server_with_another_host_key_gets_nothing_until_the_settings_are_fixed(
    asperion: Asperion, sftp_server: Sftp
) -> None:
    box = SecretBox(asperion.secrets_key)
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    await asperion.connect(demo_settings(sftp=target(sftp_server, box, host_key=impostor)))
    await asperion.order("u2")
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    assert list((sftp_server.root / "inbox").iterdir()) == []
    failed = (await asperion.service.archive.get(delivery.id)).status["sftp"]
    assert "HostKeyNotVerifiable" in failed["error"] and failed["attempts"] == 1
    await asperion.connect(demo_settings(sftp=target(sftp_server, box)))
    asperion.clock.advance(seconds=61)
    await asperion.service.tick()
    assert (sftp_server.root / "inbox" / delivery.name).exists()


async def test_a_private_key_logs_in_and_a_missing_host_key_is_refused(
    sftp_server: Sftp, secrets_key: str
) -> None:
    box = SecretBox(secrets_key)
    key = sftp_server.client_key.export_private_key().decode()
    by_key = target(sftp_server, box, credentials={"private_key": box.encrypt(key)})
    remote = await upload(by_key, "test.zip", b"PK\x05\x06" + bytes(18), box=box, timeout=10)
    assert remote == "/inbox/test.zip"
    assert (sftp_server.root / "inbox" / "test.zip").read_bytes().startswith(b"PK")
    with pytest.raises(SftpRefused):
        await upload(target(sftp_server, box, host_key=None), "x.zip", b"", box=box, timeout=10)
