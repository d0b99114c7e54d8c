"""``liandong letter verify``: check a transfer letter (移送函) against its sending agency's
electronic signature (R-REF-12), offline, with the agency's public key.

    liandong letter verify 移送函.pdf --signature letter.sig --public-key fy-market.pem

The letter is what ``GET /referrals/{id}/letter.pdf`` hands out, the signature what
``GET /referrals/{id}/letter.sig`` does (JSON), and the public key comes from the graph
(``letterSigningKeys { agencyId keyId publicKeyPem }``) or from the agency itself: trust in a
signature is trust in where the key came from, so the key is never taken from the signature.
Prints OK with the number, agency, key and time, or FAILED with the reason (exit status 1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

letter_app = typer.Typer(help="Transfer letters (移送函) and their electronic signatures.")

#: Exit status when the letter does not verify (2 is typer's usage error).
EXIT_INVALID = 1


@letter_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="the letter as downloaded (letter.pdf)")],
    public_key: Annotated[
        Path, typer.Option("--public-key", help="the signing agency's public key (PEM)")
    ],
    signature: Annotated[
        Path | None,
        typer.Option(help="the detached signature (JSON; default: FILE with .sig added)"),
    ] = None,
) -> None:
    from kernel.signing import verify_detached

    sig_path = signature or file.with_name(file.name + ".sig")
    for path, hint in ((file, "FILE"), (sig_path, "--signature"), (public_key, "--public-key")):
        if not path.is_file():
            raise typer.BadParameter(f"{path} does not exist", param_hint=hint)
    try:
        document = json.loads(sig_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeError) as exc:
        raise typer.BadParameter(
            f"{sig_path} is not JSON: {exc}", param_hint="--signature"
        ) from None
    if not isinstance(document, dict):
        raise typer.BadParameter(f"{sig_path} is not a signature", param_hint="--signature")
    result = verify_detached(file.read_bytes(), document, public_key.read_bytes())
    if not result.valid:
        typer.echo(f"FAILED: {file}: {result.reason}", err=True)
        raise typer.Exit(EXIT_INVALID)
    typer.echo(
        f"OK: {file} is the letter {document.get('letter_number', '')} signed by "
        f"{document.get('agency_id', '')} (key {document.get('key_id', '')}, "
        f"{document.get('algorithm', '')}) at {document.get('signed_at', '')}"
    )
