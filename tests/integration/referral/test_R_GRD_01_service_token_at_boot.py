"""R-GRD-01: a production referral service boots only with its own token (the identity
provider's, mounted as ``LIANDONG_SERVICE_TOKEN_FILE``). Without it, or with a token the
district's verifier refuses, the boot stops naming the setting, instead of starting and then
dead-lettering the first referred dispatch whose photos it cannot fetch."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kernel.auth import TokenIssuer, ensure_dev_keys, service_principal
from kernel.service_identity import ServiceIdentityError
from kernel.settings import Settings
from kernel.wiring import build_deps
from referral.bootstrap import bootstrap


def _production(tmp_path: Path, **over: object) -> Settings:
    keys = ensure_dev_keys(tmp_path)
    return Settings(  # type: ignore[arg-type]
        data_dir=tmp_path,
        store="embedded",
        bus="memory",
        district="fuyuan",
        env="production",
        jwt_jwks_file=keys.jwks_file,
        gateway_hmac_secret="s" * 32,
        letter_signing_keys_dir=tmp_path / "letter-keys",
        **over,
    )


def _token(tmp_path: Path, *, ttl: timedelta) -> Path:
    keys = ensure_dev_keys(tmp_path)
    issuer = TokenIssuer(
        keys.private_key_file.read_bytes(), kid=keys.kid, issuer="liandong", audience="liandong"
    )
    file = tmp_path / "referral-service-token"
    file.write_text(issuer.issue(service_principal("referral", "fuyuan"), ttl=ttl))
    return file


async def test_R_GRD_01_production_boot_without_the_service_token_stops(tmp_path: Path) -> None:
    deps = await build_deps(_production(tmp_path), "referral")
    try:
        with pytest.raises(ServiceIdentityError, match="LIANDONG_SERVICE_TOKEN_FILE is not set"):
            bootstrap(deps)
    finally:
        await deps.store.close()


async def test_R_GRD_01_production_boot_with_an_expired_service_token_stops(
    tmp_path: Path,
) -> None:
    file = _token(tmp_path, ttl=timedelta(minutes=-5))
    deps = await build_deps(_production(tmp_path, service_token_file=file), "referral")
    try:
        with pytest.raises(ServiceIdentityError, match=str(file)):
            bootstrap(deps)
    finally:
        await deps.store.close()


async def test_R_GRD_01_production_boot_with_its_service_token_starts(tmp_path: Path) -> None:
    file = _token(tmp_path, ttl=timedelta(minutes=5))
    deps = await build_deps(_production(tmp_path, service_token_file=file), "referral")
    try:
        service = bootstrap(deps)
        assert service.handlers is not None
    finally:
        await deps.store.close()
