"""``liandong``: start the suite, serve one service, mint development tokens, and more."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from liandong.audit_cli import audit_app
from liandong.backup_cli import backup_app
from liandong.bus_cli import bus_app
from liandong.catalogue_cli import catalogue_app
from liandong.letter_cli import letter_app
from liandong.migrate_cli import migrate_command

# Every command imports what it needs when it runs, so that `liandong --help`, `liandong
# token` and `liandong calendar` start in a blink: the services, the web server and the
# kernel's settings, policy and token machinery take seconds to import together
# (bench/cli_startup.py measures; tests/unit/test_cli.py checks what each command loads).
if TYPE_CHECKING:
    from kernel.auth import TokenIssuer
    from kernel.settings import Settings

app = typer.Typer(
    help="Liandong (联动): law-enforcement coordination between townships and departments."
)
calendar_app = typer.Typer(help="The working-day calendar (工作日).")
sdl_app = typer.Typer(help="The subgraph schemas the gateway composes.")
app.add_typer(calendar_app, name="calendar")
app.add_typer(sdl_app, name="sdl")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(audit_app, name="audit")
app.add_typer(letter_app, name="letter")
app.add_typer(backup_app, name="backup")
app.add_typer(bus_app, name="bus")
app.command("migrate")(migrate_command)

CHINA = ZoneInfo("Asia/Shanghai")
SUITE_PORT = 8100


def _settings(**overrides: object) -> Settings:
    from kernel.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


def _issuer(settings: Settings) -> TokenIssuer:
    from kernel.auth import TokenIssuer, ensure_dev_keys

    if settings.jwt_private_key_file is not None:
        pem = settings.jwt_private_key_file.read_bytes()
        kid = settings.jwt_private_key_file.stem
        if settings.jwt_jwks_file is not None:
            keys = json.loads(settings.jwt_jwks_file.read_text())["keys"]
            kid = keys[0]["kid"] if len(keys) == 1 else kid
    else:
        if settings.env == "production":
            raise typer.BadParameter("production tokens come from the identity provider")
        dev = ensure_dev_keys(settings.data_dir)
        pem, kid = dev.private_key_file.read_bytes(), dev.kid
    return TokenIssuer(pem, kid=kid, issuer=settings.jwt_issuer, audience=settings.jwt_audience)


def mint_token(
    settings: Settings,
    agency: str,
    roles: list[str],
    person: str = "demo",
    name: str = "演示用户",
    hours: float = 8,
) -> str:
    from kernel.auth import ROLES, Principal

    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise typer.BadParameter(f"unknown role(s) {unknown}; known: {', '.join(ROLES)}")
    principal = Principal(person, name, agency, settings.district, tuple(roles))
    return _issuer(settings).issue(principal, ttl=timedelta(hours=hours))


@app.command()
def token(
    agency: Annotated[str, typer.Option(help="agency id, e.g. fy-hancong")],
    role: Annotated[list[str], typer.Option(help="role (repeatable)")] = ["clerk"],  # noqa: B006
    person: Annotated[str, typer.Option(help="person id")] = "demo",
    name: Annotated[str, typer.Option(help="person's name")] = "演示用户",
    hours: Annotated[float, typer.Option(help="validity")] = 8,
    district: Annotated[str | None, typer.Option(help="district (default from settings)")] = None,
) -> None:
    """Print a development JWT for a person of an agency with the given roles."""
    settings = _settings(district=district)
    typer.echo(mint_token(settings, agency, role, person, name, hours))


@calendar_app.command("add-working-days")
def add_working_days(
    start: Annotated[str, typer.Argument(help="YYYY-MM-DD or an ISO date-time")],
    n: Annotated[int, typer.Argument(help="working days to add")],
    district: Annotated[str, typer.Option(help="district whose overrides apply")] = "fuyuan",
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Compute a deadline N working days after START and explain how."""
    from kernel.policy import PolicyError, district_policy

    try:
        settings = _settings(district=district)
        policy = district_policy(settings.district, settings.policy_file)
    except PolicyError as exc:
        raise typer.BadParameter(str(exc), param_hint="--district") from exc
    try:
        if "T" in start:
            moment = datetime.fromisoformat(start)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=CHINA)
        else:
            moment = datetime.combine(date.fromisoformat(start), time(9, 0), CHINA)
    except ValueError as exc:
        raise typer.BadParameter(f"{start!r} is not a date: {exc}", param_hint="START") from exc
    deadline = policy.working_calendar().add_working_days(moment, n)
    typer.echo(deadline.due.isoformat())
    typer.echo(deadline.explain(lang=lang))


@calendar_app.command("import")
def import_schedule(
    file: Annotated[
        Path,
        typer.Argument(help="the year's schedule (.yaml or .json)", exists=True, dir_okay=False),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="validate and report; load nothing")
    ] = False,
) -> None:
    """Load a year's official holiday schedule (国务院办公厅关于××年部分节假日安排的通知).

    The file holds year, document_number (文号), title, days_off and working_days (rows of
    date and name; see README, "The yearly calendar step"). Every row is validated first;
    with any bad row nothing is loaded. The schedule is stored in the coordination service
    and published to every service of the district, which recompute the open clocks across
    the year.
    """
    import asyncio

    import yaml

    from kernel.calendar import ScheduleError, parse_schedule

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        typer.echo(f"{file}: not a YAML or JSON file: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        schedule = parse_schedule(data, str(file))
    except ScheduleError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    summary = (
        f"{schedule.year}: {len(schedule.days_off)} days off, "
        f"{len(schedule.working_days)} adjusted working days, {schedule.document_number} "
        f"(digest {schedule.version})"
    )
    if dry_run:
        typer.echo(f"{summary}; dry run: nothing loaded")
        return

    async def run() -> str:
        from coordination.application.calendar import ImportHolidaySchedule
        from kernel.settings import Settings
        from liandong.catalogue_cli import _service

        service = await _service(Settings())
        try:
            result = await service.calendar.import_schedule_as_system(
                ImportHolidaySchedule(data, file.name)
            )
        finally:
            await service.runtime.store.close()
        if result.outcome == "unchanged":
            return f"{summary}: already in force (revision {result.schedule.revision}); unchanged"
        return f"{summary}: loaded as revision {result.schedule.revision}, published"

    typer.echo(asyncio.run(run()))


@sdl_app.command("export")
def sdl_export(
    check: Annotated[bool, typer.Option(help="only check the committed files are current")] = False,
) -> None:
    """Write (or check) services/<name>/schema.graphql from the code, and the composed public
    API schema gateway/api.graphql from them (needs the gateway's node packages)."""
    from coordination.entrypoints.graphql.schema import build_schema as coordination_schema
    from liandong.gateway import composed_api_schema
    from liandong.suite import API_SCHEMA_PATH, export_sdl, sdl_path
    from notify.entrypoints.graphql.schema import build_schema as notify_schema
    from referral.entrypoints.graphql.schema import build_schema as referral_schema

    stale = []
    for name, build in (
        ("referral", referral_schema),
        ("coordination", coordination_schema),
        ("notify", notify_schema),
    ):
        text = export_sdl(name, build())
        path = sdl_path(name)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            stale.append(name)
            if not check:
                path.write_text(text, encoding="utf-8")
    # The composition reads the SDL files: written above, or (with --check) as committed,
    # which is what a client generating code from gateway/api.graphql gets.
    names = ("referral", "coordination", "notify")
    api = composed_api_schema({name: sdl_path(name) for name in names})
    current_api = API_SCHEMA_PATH.read_text(encoding="utf-8") if API_SCHEMA_PATH.exists() else ""
    if current_api != api:
        stale.append("api.graphql")
        if not check:
            API_SCHEMA_PATH.write_text(api, encoding="utf-8")
    if check and stale:
        typer.echo(f"stale SDL: {', '.join(stale)}; run `liandong sdl export`", err=True)
        raise typer.Exit(1)
    typer.echo("SDL " + ("current" if not stale else f"written: {', '.join(stale)}"))


@app.command("asyncapi")
def asyncapi_export(
    check: Annotated[bool, typer.Option(help="only check the committed file is current")] = False,
) -> None:
    """Write (or check) the AsyncAPI 3 document of every published event, which the notify
    service serves at /asyncapi.json."""
    from liandong.asyncapi import ASYNCAPI_PATH, render, write

    current = ASYNCAPI_PATH.read_text(encoding="utf-8") if ASYNCAPI_PATH.exists() else ""
    if current == render():
        typer.echo("AsyncAPI current")
        return
    if check:
        typer.echo("stale AsyncAPI document; run `liandong asyncapi`", err=True)
        raise typer.Exit(1)
    typer.echo(f"AsyncAPI written: {write()}")


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="referral | coordination | notify")],
    seed_demo: Annotated[
        bool, typer.Option(help="coordination: register the demo agencies")
    ] = False,
) -> None:
    """Run one service for production, with the store and bus from settings."""
    import uvicorn

    from kernel.settings import SERVICES, Settings
    from liandong.serving import run as run_on_service_loop
    from liandong.serving import serve as serve_until_shutdown
    from liandong.serving import server_config

    if service not in SERVICES:
        raise typer.BadParameter(f"one of {', '.join(SERVICES)}", param_hint="SERVICE")
    settings = Settings()
    from liandong.suite import build_service

    async def main() -> None:
        svc = await build_service(service, settings, seed_demo=seed_demo)
        config = server_config(
            svc.create_app(), host=settings.http_host, port=settings.port_for(service)
        )
        await serve_until_shutdown(uvicorn.Server(config), what=f"the {service} service")

    run_on_service_loop(main(), loop=settings.event_loop)


@app.command()
def up(
    port: Annotated[int, typer.Option(help="port of the services")] = SUITE_PORT,
    gateway_port: Annotated[int | None, typer.Option(help="port of the gateway")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where the embedded store lives")] = None,
) -> None:
    """Start the whole suite on this machine: three services in one process over an
    in-process bus and the embedded store, with the Fuyuan demo data, and the gateway with
    GraphiQL."""
    import asyncio
    import contextlib
    import signal

    import uvicorn

    from kernel.settings import SERVICES

    settings = _settings(store="embedded", bus="memory", data_dir=data_dir)
    gport = gateway_port or settings.gateway_port
    from liandong.gateway import GatewayProcess, compose_supergraph, ensure_gateway_installed
    from liandong.serving import freeze_startup_heap, until_started
    from liandong.serving import run as run_on_service_loop
    from liandong.suite import build_suite, sdl_path

    ensure_gateway_installed()

    async def main() -> None:
        suite = await build_suite(settings, seed_demo=True)
        config = uvicorn.Config(
            suite.create_app(), host="127.0.0.1", port=port, log_level="warning"
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        if not await until_started(server, serving, what="the suite"):
            return
        freeze_startup_heap()
        run_dir = settings.data_dir / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        supergraph = compose_supergraph(
            {
                name: (f"http://127.0.0.1:{port}/{name}/graphql", sdl_path(name))
                for name in SERVICES
            },
            run_dir / "supergraph.graphql",
        )
        gateway = GatewayProcess(
            supergraph=supergraph, port=gport, log_dir=run_dir, production=False
        )
        await asyncio.to_thread(gateway.start)
        demo = mint_token(settings, "fy-hancong", ["clerk", "leader"], "demo-hc", "郑晓东")
        typer.echo(
            "\nLiandong is up (district fuyuan, embedded store in "
            f"{settings.data_dir.resolve()}).\n"
            f"  GraphiQL / gateway : {gateway.url}\n"
            + "".join(
                f"  {name:<19}: http://127.0.0.1:{port}/{name}/graphql\n" for name in SERVICES
            )
            + f"\nA demo token (寒葱沟镇, clerk+leader); in GraphiQL add the header\n"
            f'  {{"Authorization": "Bearer {demo}"}}\n'
            "Mint others with `uv run liandong token --agency fy-market --role clerk`.\n"
            "Press Ctrl-C to stop."
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await asyncio.wait(
            [asyncio.create_task(stop.wait()), serving], return_when=asyncio.FIRST_COMPLETED
        )
        await asyncio.to_thread(gateway.stop)
        server.should_exit = True
        await serving

    run_on_service_loop(main(), loop=settings.event_loop)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
