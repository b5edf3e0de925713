"""The `parley` command: serve, manage apps, set up the demo. Errors print one line and exit 1."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from server.chat import admin, apps, users, webhook_events, webhook_outbox
from server.chat.context import ChatContext
from server.chat.demo import DEMO_APP_ID, DEMO_USERS
from server.chat.errors import ChatError, InvalidInput
from server.config import Settings, SettingsError
from server.db.database import Database, DatabaseURLError
from server.deploy import ClusterError

T = TypeVar("T")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Parley chat server")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the REST API, Socket.IO and the widget")
    serve.add_argument("--host", help="interface to listen on (default: PARLEY_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PARLEY_PORT or 8000)")

    cluster = commands.add_parser("cluster", help="several serve processes behind HAProxy, on Redis and PostgreSQL")
    cluster.add_argument("--processes", type=int, default=2, help="how many serve processes (default: 2)")
    cluster.add_argument("--port", type=int, help="the proxy's port (default: PARLEY_PORT or 8000)")
    cluster.add_argument("--first-port", type=int, help="the first process's port (default: the proxy's + 1)")
    cluster.add_argument("--print-proxy-config", action="store_true", help="print the HAProxy config and exit")

    app = commands.add_parser("app", help="create, list and configure apps").add_subparsers(
        dest="app_command", required=True
    )
    create = app.add_parser("create", help="create an app and print its appId and secretKey")
    create.add_argument("--name", required=True)
    create.add_argument("--id", dest="app_id", help="choose the appId (default: a random one)")
    app.add_parser("list", help="list apps and their settings")
    set_ = app.add_parser("set", help=f"change settings: {', '.join(apps.SETTING_KEYS)}")
    set_.add_argument("app_id")
    set_.add_argument("pairs", nargs="+", metavar="key=value")

    webhook = commands.add_parser("webhook", help="an app's webhook: its delivery log, a test event, redelivery").add_subparsers(
        dest="webhook_command", required=True
    )
    webhook.add_parser("log", help="the latest 100 deliveries, newest first, as JSON").add_argument("app_id")
    webhook.add_parser("test", help="send a test event to the app's webhook").add_argument("app_id")
    redeliver = webhook.add_parser("redeliver", help="send a delivered or failed event again (by its log id)")
    redeliver.add_argument("app_id")
    redeliver.add_argument("id", type=int)

    commands.add_parser("demo", help="create the demo app and its users (idempotent)")

    admin_cmd = commands.add_parser("admin", help="the dashboard's administrator").add_subparsers(
        dest="admin_command", required=True
    )
    admin_cmd.add_parser("set-password", help="set the dashboard password (prompted, or read from standard input)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "serve":
            return serve(settings, args.host, args.port)
        if args.command == "cluster":
            return cluster(settings, args)
        args.settings = settings
        return run_with_chat(settings, lambda chat: COMMANDS[_name(args)](chat, args))
    except (ChatError, SettingsError, DatabaseURLError, ClusterError) as error:
        message = error.message if isinstance(error, ChatError) else str(error)
        print(f"parley: error: {message}", file=sys.stderr)
        return 1


def _name(args: argparse.Namespace) -> str:
    if args.command == "app":
        return f"app {args.app_command}"
    if args.command == "admin":
        return f"admin {args.admin_command}"
    if args.command == "webhook":
        return f"webhook {args.webhook_command}"
    return args.command


def run_with_chat(settings: Settings, command: Callable[[ChatContext], Awaitable[T]]) -> T:
    database = Database(settings.database_url, readers=1)
    try:
        database.start()
        return asyncio.run(command(ChatContext(database)))
    finally:
        database.close()


def print_json(value: Any) -> int:
    print(json.dumps(value, indent=2))
    return 0


async def app_create(chat: ChatContext, args: argparse.Namespace) -> int:
    created = await apps.create_app(chat, args.name, args.app_id)
    return print_json({"appId": created["appId"], "secretKey": created["secretKey"]})


async def app_list(chat: ChatContext, args: argparse.Namespace) -> int:
    return print_json(await apps.list_apps(chat))


async def app_set(chat: ChatContext, args: argparse.Namespace) -> int:
    changes = apps.parse_settings(dict(_split_pair(pair) for pair in args.pairs))
    return print_json(await apps.update_settings(chat, args.app_id, changes))


def _split_pair(pair: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep:
        raise InvalidInput(f"expected key=value, got {pair!r}")
    return key.strip(), value


async def demo(chat: ChatContext, args: argparse.Namespace) -> int:
    """The demo app (appId `demo`) and its three users; running it again changes nothing."""
    existing = {a["appId"] for a in await apps.list_apps(chat)}
    if DEMO_APP_ID not in existing:
        await apps.create_app(chat, "Parley demo", DEMO_APP_ID)
        # notification emails (the development mailbox without SMTP) link back to the demo page
        await apps.update_settings(chat, DEMO_APP_ID, {"notification_link": f"{args.settings.base_url}/demo"})
    app = await apps.get_app(chat, DEMO_APP_ID)
    for user in DEMO_USERS:
        await users.put_user(chat, app, user["id"], user)
    return print_json({"appId": app.app_id, "secretKey": app.secret_key, "users": [u["id"] for u in DEMO_USERS]})


async def admin_set_password(chat: ChatContext, args: argparse.Namespace) -> int:
    await admin.set_password(chat, read_new_password())
    print("The dashboard password is set.")
    return 0


def read_new_password() -> str:
    """Prompted twice on a terminal; otherwise the first line of standard input."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("New dashboard password: ")
    if getpass.getpass("Repeat it: ") != password:
        raise InvalidInput("the two passwords differ")
    return password


async def webhook_log(chat: ChatContext, args: argparse.Namespace) -> int:
    return print_json(await webhook_outbox.log(chat, await apps.get_app(chat, args.app_id)))


async def webhook_test(chat: ChatContext, args: argparse.Namespace) -> int:
    app = await apps.get_app(chat, args.app_id)
    if not app.webhook_url:
        raise InvalidInput(f"app {args.app_id!r} has no webhook: set one with parley app set {args.app_id} webhookUrl=https://...")
    event_id = await chat.db.write(webhook_events.record_test, app.app_id)
    return print_json({"queued": event_id, "to": app.webhook_url})


async def webhook_redeliver(chat: ChatContext, args: argparse.Namespace) -> int:
    app = await apps.get_app(chat, args.app_id)
    if not await chat.db.write(webhook_outbox.redeliver, app, args.id):
        raise InvalidInput(f"no delivered or failed event {args.id} in app {args.app_id!r} (see parley webhook log)")
    return print_json({"queued": args.id})


COMMANDS: dict[str, Callable[[ChatContext, argparse.Namespace], Awaitable[int]]] = {
    "admin set-password": admin_set_password,
    "app create": app_create,
    "app list": app_list,
    "app set": app_set,
    "demo": demo,
    "webhook log": webhook_log,
    "webhook test": webhook_test,
    "webhook redeliver": webhook_redeliver,
}


def serve(settings: Settings, host: str | None, port: int | None) -> int:
    import uvicorn

    from server.app import create_app
    from server.serving import tune_gc, tune_switching, uvicorn_config

    from server.cluster.node import unreachable

    settings = settings.replace(host=host or settings.host, port=port if port is not None else settings.port)
    if settings.redis_url and (problem := unreachable(settings.redis_url)):
        print(f"parley: error: {problem}", file=sys.stderr)
        return 1
    print(f"Parley is serving on {settings.base_url} (demo: {settings.base_url}/demo)", flush=True)
    print(_email_line(settings), flush=True)
    tune_gc()
    tune_switching()
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings.host, settings.port, settings.log_level))
    server.run()
    return 0 if server.started else 1


def _email_line(settings: Settings) -> str:
    if settings.smtp is None:
        return ("Notification emails stay in the development mailbox (dashboard, an app's Notifications tab); "
                "set PARLEY_SMTP_URL to send them")
    replies = f"; replies by email on {settings.inbound_smtp[0]}:{settings.inbound_smtp[1]}" if settings.inbound_smtp else ""
    return f"Notification emails go through {settings.smtp.display}{replies}"


def cluster(settings: Settings, args: argparse.Namespace) -> int:
    from server import deploy

    if args.processes < 1:
        raise ClusterError("--processes must be at least 1")
    port = args.port if args.port is not None else settings.port
    first_port = args.first_port if args.first_port is not None else port + 1
    if args.print_proxy_config:
        servers = [deploy.Upstream(f"parley{i + 1}", f"127.0.0.1:{first_port + i}") for i in range(args.processes)]
        print(deploy.render_proxy_config(f"{settings.host}:{port}", servers), end="")
        return 0
    running = deploy.LocalCluster(settings, args.processes, port, first_port)
    running.handle_signals()
    deploy.ensure_database(settings.database_url)
    try:
        running.start()
    except KeyboardInterrupt:
        running.stop()
        return 1
    except BaseException:
        running.stop()
        raise
    print(f"Parley cluster: {args.processes} processes behind HAProxy on http://{settings.host}:{port} "
          f"(demo: http://{settings.host}:{port}/demo); SIGHUP restarts them one by one", flush=True)
    return running.serve_forever()
