"""R-GRD-01: the referral service's own identity towards coordination (kernel.service_identity):
a token of the kernel's machinery that the district's verifier accepts, read from the
identity provider's file when one is set, never minted in production; and the one retrying
GET it makes (a brief outage retried, a refusal not)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from graphql import GraphQLError
from starlette.requests import Request

from kernel.auth import (
    AuthError,
    AuthReason,
    Principal,
    TokenIssuer,
    TokenVerifier,
    accept_service_identity,
    ensure_dev_keys,
    is_service,
    service_principal,
)
from kernel.graphql.context import RequestContext
from kernel.http import CurrentPrincipal, JsonErrorRoute
from kernel.service_identity import (
    FetchRefused,
    FetchUnavailable,
    ServiceClient,
    ServiceCredential,
    ServiceIdentityError,
)
from kernel.settings import Settings


def _settings(tmp_path: Path, **over: object) -> Settings:
    return Settings(district="huancui", data_dir=tmp_path, **over)  # type: ignore[arg-type]


def test_R_GRD_01_a_dev_service_token_verifies_as_exactly_the_service(tmp_path: Path) -> None:
    keys = ensure_dev_keys(tmp_path)
    token = ServiceCredential(_settings(tmp_path), "referral").token()
    verifier = TokenVerifier.from_file(
        keys.jwks_file, issuer="liandong", audience="liandong", district="huancui"
    )
    principal = verifier.verify(token)
    assert principal == service_principal("referral", "huancui")
    assert is_service(principal, "referral") and not is_service(principal, "notify")
    # Look-alikes are not the service: another subject, an agency, an extra role.
    for other in (
        Principal("p", "x", "service:referral", "huancui", ("referral_service",)),
        Principal("service:referral", "x", "hc-market", "huancui", ("referral_service",)),
        Principal(
            "service:referral", "x", "service:referral", "huancui", ("referral_service", "clerk")
        ),
    ):
        assert not is_service(other, "referral")


def test_R_GRD_01_the_token_file_is_read_at_each_use_and_production_never_mints(
    tmp_path: Path,
) -> None:
    file = tmp_path / "token"
    file.write_text("first\n")
    credential = ServiceCredential(_settings(tmp_path, service_token_file=file), "referral")
    assert credential.token() == "first"
    file.write_text("renewed")
    assert credential.token() == "renewed"
    with pytest.raises(RuntimeError, match="LIANDONG_SERVICE_TOKEN_FILE"):
        ServiceCredential(_settings(tmp_path, env="production"), "referral").token()


class Script(httpx.AsyncBaseTransport):
    def __init__(self, *answers: int | type[Exception]) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        assert request.headers["authorization"] == "Bearer t"
        if isinstance(answer, int):
            return httpx.Response(answer, content=b"photo" if answer == 200 else b"no")
        raise answer("down", request=request)


def _client(tmp_path: Path, transport: Script, attempts: int = 3) -> ServiceClient:
    file = tmp_path / "token"
    file.write_text("t")
    credential = ServiceCredential(_settings(tmp_path, service_token_file=file), "referral")
    return ServiceClient(
        "http://c", credential, attempts=attempts, backoff_seconds=0, transport=transport
    )


async def test_R_GRD_01_an_outage_within_the_attempts_is_retried(tmp_path: Path) -> None:
    """Just inside: two failures and a success within three attempts."""
    script = Script(httpx.ConnectError, 503, 200)
    assert await _client(tmp_path, script).get_bytes("/p", max_bytes=10) == b"photo"
    assert script.calls == 3


async def test_R_GRD_01_an_outage_past_the_attempts_gives_up(tmp_path: Path) -> None:
    """Just outside: three failures in three attempts."""
    script = Script(503, httpx.ReadTimeout, 502, 200)
    with pytest.raises(FetchUnavailable, match="failed 3 times"):
        await _client(tmp_path, script).get_bytes("/p", max_bytes=10)
    assert script.calls == 3


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_R_GRD_01_a_refusal_is_final(tmp_path: Path, status: int) -> None:
    script = Script(status, 200)
    with pytest.raises(FetchRefused) as e:
        await _client(tmp_path, script).get_bytes("/p", max_bytes=10)
    assert e.value.status == status and script.calls == 1


async def test_R_GRD_01_more_bytes_than_expected_are_refused(tmp_path: Path) -> None:
    """b"photo" is 5 bytes: 5 allowed (inside), 4 refused (outside)."""
    assert await _client(tmp_path, Script(200)).get_bytes("/p", max_bytes=5) == b"photo"
    with pytest.raises(FetchRefused):
        await _client(tmp_path, Script(200)).get_bytes("/p", max_bytes=4)


# -- where a service identity is accepted: only on the routes made for it ----------------------


def _verifier_and_issuer(tmp_path: Path) -> tuple[TokenVerifier, TokenIssuer]:
    keys = ensure_dev_keys(tmp_path)
    issuer = TokenIssuer(
        keys.private_key_file.read_bytes(), kid=keys.kid, issuer="liandong", audience="liandong"
    )
    verifier = TokenVerifier.from_file(keys.jwks_file, issuer="liandong", audience="liandong")
    return verifier, issuer


SERVICE = service_principal("referral", "huancui")
PERSON = Principal("p", "某人", "hc-zhangcun", "huancui", ("clerk",))
MIXED = Principal("p", "某人", "hc-zhangcun", "huancui", ("clerk", "referral_service"))


def test_R_GRD_01_a_service_identity_only_where_a_route_accepts_it() -> None:
    accept_service_identity(PERSON)
    accept_service_identity(SERVICE, frozenset({"referral"}))
    for who, services in ((SERVICE, frozenset()), (MIXED, frozenset({"referral"}))):
        with pytest.raises(AuthError) as e:
            accept_service_identity(who, services)
        assert (e.value.code, e.value.reason) == ("FORBIDDEN", AuthReason.SERVICE)


async def test_R_GRD_01_http_routes_refuse_a_service_identity_unless_named(
    tmp_path: Path,
) -> None:
    verifier, issuer = _verifier_and_issuer(tmp_path)
    router = APIRouter(route_class=JsonErrorRoute)
    plain = Depends(CurrentPrincipal(verifier, "huancui"))
    named = Depends(CurrentPrincipal(verifier, "huancui", services=frozenset({"referral"})))

    @router.get("/plain")
    async def plain_route(caller: Principal = plain) -> dict[str, str]:
        return {"who": caller.person_id}

    @router.get("/named")
    async def named_route(caller: Principal = named) -> dict[str, str]:
        return {"who": caller.person_id}

    app = FastAPI()
    app.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:

        async def status(path: str, who: Principal) -> int:
            headers = {"Authorization": f"Bearer {issuer.issue(who)}"}
            return (await http.get(path, headers=headers)).status_code

        assert await status("/plain", PERSON) == 200
        assert await status("/plain", SERVICE) == 403
        assert await status("/named", SERVICE) == 200
        assert await status("/named", PERSON) == 200
        assert await status("/named", MIXED) == 403


def test_R_GRD_01_the_graph_refuses_a_service_identity(tmp_path: Path) -> None:
    verifier, issuer = _verifier_and_issuer(tmp_path)

    def context(who: Principal) -> RequestContext:
        ctx = RequestContext(verifier, "huancui")
        scope = {
            "type": "http",
            "headers": [(b"authorization", f"Bearer {issuer.issue(who)}".encode())],
        }
        ctx.request = Request(scope)
        return ctx

    assert context(PERSON).principal() == PERSON
    with pytest.raises(GraphQLError) as e:
        context(SERVICE).principal()
    assert e.value.extensions is not None and e.value.extensions["code"] == "FORBIDDEN"


def _verifier(tmp_path: Path) -> TokenVerifier:
    keys = ensure_dev_keys(tmp_path)
    return TokenVerifier.from_file(
        keys.jwks_file, issuer="liandong", audience="liandong", district="huancui"
    )


def _token_file(tmp_path: Path, principal: Principal, *, ttl: timedelta, keys_dir: Path) -> Path:
    keys = ensure_dev_keys(keys_dir)
    issuer = TokenIssuer(
        keys.private_key_file.read_bytes(), kid=keys.kid, issuer="liandong", audience="liandong"
    )
    file = tmp_path / "service-token"
    file.write_text(issuer.issue(principal, ttl=ttl) + "\n")
    return file


def test_R_GRD_01_production_without_a_service_token_file_stops_the_boot(tmp_path: Path) -> None:
    credential = ServiceCredential(_settings(tmp_path, env="production"), "referral")
    with pytest.raises(ServiceIdentityError, match="LIANDONG_SERVICE_TOKEN_FILE is not set"):
        credential.check(_verifier(tmp_path))
    # Outside production the token is minted from the development keys: nothing to check.
    ServiceCredential(_settings(tmp_path), "referral").check(_verifier(tmp_path))


def test_R_GRD_01_a_valid_service_token_file_passes_the_start_check(tmp_path: Path) -> None:
    file = _token_file(
        tmp_path,
        service_principal("referral", "huancui"),
        ttl=timedelta(minutes=5),
        keys_dir=tmp_path,
    )
    settings = _settings(tmp_path, env="production", service_token_file=file)
    ServiceCredential(settings, "referral").check(_verifier(tmp_path))


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "cannot read"),
        ("empty", "is empty"),
        ("expired", "refused by this district's verifier"),
        ("other keys", "refused by this district's verifier"),
        ("other district", "refused by this district's verifier"),
        ("a clerk", "not the referral service's own"),
        ("another service", "not the referral service's own"),
    ],
)
def test_R_GRD_01_a_service_token_file_the_suite_would_refuse_stops_the_boot(
    tmp_path: Path, case: str, expected: str
) -> None:
    ok = service_principal("referral", "huancui")
    principal, ttl, keys_dir = ok, timedelta(minutes=5), tmp_path
    if case == "expired":
        ttl = timedelta(minutes=-5)  # past the verifier's leeway
    elif case == "other keys":
        keys_dir = tmp_path / "elsewhere"
    elif case == "other district":
        principal = service_principal("referral", "fuyuan")
    elif case == "a clerk":
        principal = Principal("u1", "张三", "hc-market", "huancui", ("clerk",))
    elif case == "another service":
        principal = service_principal("notify", "huancui")
    file = _token_file(tmp_path, principal, ttl=ttl, keys_dir=keys_dir)
    if case == "missing":
        file.unlink()
    elif case == "empty":
        file.write_text("\n")
    settings = _settings(tmp_path, env="production", service_token_file=file)
    with pytest.raises(ServiceIdentityError, match=expected) as raised:
        ServiceCredential(settings, "referral").check(_verifier(tmp_path))
    assert str(file) in str(raised.value)
