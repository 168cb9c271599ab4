"""The HTTP API (FastAPI): health, login, users, push, pull and single rows, each request authorized here.

Bad input (wrong types, unknown fields, huge bodies, another user's rows) gets a 4xx with a message
naming the field and the reason, and changes nothing.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures, and the dependencies are local names.

import asyncio
import hashlib
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from typing_extensions import NotRequired, TypedDict  # pydantic needs this TypedDict on Python < 3.12

from server import auth, files, merge
from server.jsontext import dumps
from server.policy import Refused
from server.storage import ServerStore

MAX_BODY_BYTES = 4 * 1024 * 1024   # a 500-edit push of wide rows is well under 1 MB
MAX_OPS = 1000
MAX_PULL = 2000


Name = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
Uid = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_-]{1,64}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Hlc = Annotated[str, StringConstraints(pattern=r"^\d{15}-\d{5}-[0-9A-Za-z_]{1,40}$")]
Scalar = str | int | float | bool | None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class UserIn(Strict):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    role: Literal["rep", "manager", "finance", "admin"]
    rep_uid: Uid | None = None


class RevokeIn(Strict):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]


# A push is validated straight from its JSON bytes into plain dicts (TypedDicts): one pass in
# pydantic's Rust core instead of json.loads, model objects and model_dump, which were a fifth of
# the server's time under load.
class OpIn(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    op_id: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_:.-]{1,100}$")]
    table: Name
    row_uid: Uid
    op: Literal["insert", "update", "delete"]
    values: Annotated[dict[Name, Scalar], Field(max_length=200)]
    hlc: Hlc
    base: NotRequired[Annotated[dict[Name, Hlc | None], Field(max_length=200)]]


class RestoredIn(Strict):
    ids: list[Annotated[int, Field(ge=1)]] = Field(max_length=MAX_OPS)


class PushIn(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    node_id: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_]{1,40}$")]
    ops: Annotated[list[OpIn], Field(max_length=MAX_OPS)]


_push_body = TypeAdapter(PushIn)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


class BodyLimit:
    """Refuse request bodies over the limit (413) before they are read into memory whole.

    Receipt uploads (/files/...) have their own, larger limit."""

    def __init__(self, app, limit: int, file_limit: int) -> None:
        self.app, self.limit, self.file_limit = app, limit, file_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        is_file = scope.get("path", "").startswith("/files/")
        limit = self.file_limit if is_file else self.limit
        message = (f"receipt file over {limit // 2**20} MB, the largest the server takes" if is_file
                   else f"request body over {limit} bytes")
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _error(413, message)(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            received = await receive()
            seen += len(received.get("body", b""))
            if seen > limit:
                raise _TooLarge()
            return received

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _error(413, message)(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(database_url: str) -> FastAPI:
    """The server app on one database (which `fieldatlas server init` has set up)."""
    store = ServerStore(database_url)
    store.check_ready()
    store.create_schema()  # adds tables newer than this database (IF NOT EXISTS; changes nothing else)
    app = FastAPI(title="FieldAtlas sync server", version="1", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, file_limit=files.MAX_FILE_BYTES)

    @app.exception_handler(RequestValidationError)
    async def _bad_input(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        value = first.get("input")
        shown = repr(value)[:60] if not isinstance(value, (dict, list)) else type(value).__name__
        return _error(422, f"{where or 'body'}: {first.get('msg', 'invalid')} (got {shown})")

    @app.exception_handler(auth.AuthError)
    async def _auth_error(request: Request, exc: auth.AuthError) -> JSONResponse:
        return _error(exc.status, str(exc))

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        return _error(403, str(exc))

    async def bearer(authorization: Annotated[str | None, Header()] = None) -> str:
        # async: checked on the event loop, before the body, without a trip to the thread pool
        if not authorization or not authorization.lower().startswith("bearer "):
            raise auth.AuthError("not logged in: send 'Authorization: Bearer TOKEN' (run `fieldatlas login`)")
        return authorization[7:].strip()

    def principal(token: Annotated[str, Depends(bearer)]) -> auth.Principal:
        return auth.authenticate(store, token)

    def admin(who: Annotated[auth.Principal, Depends(principal)]) -> auth.Principal:
        if who.role != "admin":
            raise Refused("only an admin manages users")
        return who

    @app.get("/health")
    def health() -> dict[str, Any]:
        with store.transaction(write=False) as tx:
            tx.one("SELECT value FROM meta WHERE key = 'schema_version'")
        return {"status": "ok", "database": store.kind}

    @app.post("/auth/login")
    def login(body: LoginIn) -> dict[str, Any]:
        token, expires, who = auth.login(store, body.email, body.password)
        return {"token": token, "expires_at": expires, "email": who.email, "role": who.role, "rep_uid": who.rep_uid}

    @app.post("/auth/logout")
    def logout(token: Annotated[str, Depends(bearer)]) -> dict[str, Any]:
        with store.transaction() as tx:
            who = auth.authenticate_in(tx, token)
            auth.end_token(tx, token)
        return {"email": who.email, "signed_out": True}

    @app.get("/me")
    def me(who: Annotated[auth.Principal, Depends(principal)]) -> dict[str, Any]:
        return {"email": who.email, "role": who.role, "rep_uid": who.rep_uid}

    @app.post("/users", status_code=201)
    def add_user(body: UserIn, who: Annotated[auth.Principal, Depends(admin)]) -> dict[str, Any]:
        try:
            with store.transaction() as tx:
                user_id = auth.add_user(tx, body.email, body.password, body.role, body.rep_uid)
        except ValueError as exc:
            return _error(422, str(exc))
        return {"id": user_id, "email": auth.normalise_email(body.email), "role": body.role, "rep_uid": body.rep_uid}

    @app.get("/users")
    def users(who: Annotated[auth.Principal, Depends(admin)]) -> list[dict[str, Any]]:
        with store.transaction(write=False) as tx:
            return tx.all("SELECT id, email, role, rep_uid, created_at, disabled_at FROM users ORDER BY id")

    @app.post("/users/revoke")
    def revoke(body: RevokeIn, who: Annotated[auth.Principal, Depends(admin)]) -> dict[str, Any]:
        try:
            with store.transaction() as tx:
                count = auth.revoke(tx, body.email)
        except LookupError as exc:
            return _error(404, str(exc))
        return {"email": auth.normalise_email(body.email), "revoked": count}

    @app.post("/sync/push")
    async def push(request: Request, token: Annotated[str, Depends(bearer)]) -> Response:
        try:
            ops = _push_body.validate_json(await request.body())["ops"]
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from None
        # The push waits for the group-committing writer without holding a thread; the token is checked
        # in the writer's transaction. The answer comes once the commit is durable.
        results = await asyncio.wrap_future(
            store.submit_write(lambda tx: merge.push_in(tx, auth.authenticate_in(tx, token), ops)))
        # Plain JSON: FastAPI's generic encoder walks every value and cost more than the push.
        return Response(dumps({"results": results}), media_type="application/json")

    @app.post("/sync/conflicts/restored")
    async def restored(body: RestoredIn, token: Annotated[str, Depends(bearer)]) -> dict[str, Any]:
        marked = await asyncio.wrap_future(store.submit_write(
            lambda tx: merge.mark_restored(tx, auth.authenticate_in(tx, token), body.ids)))
        return {"restored": marked}

    @app.get("/sync/pull")
    async def pull(token: Annotated[str, Depends(bearer)],
                   since: Annotated[int, Query(ge=0)] = 0,
                   limit: Annotated[int, Query(ge=1, le=MAX_PULL)] = 500) -> Response:
        # On one of the store's few reader threads (ServerStore.submit_read), not the thread pool of sync
        # endpoints: 20 pulls on 20 threads fought over the GIL (p99 of sync_load.py, median of 3 runs under
        # load: 169 ms with two readers, 301 ms on the thread pool).
        body = await asyncio.wrap_future(store.submit_read(
            lambda tx: merge.pull_in(tx, auth.authenticate_in(tx, token), since, limit)))
        return Response(body, media_type="application/json")

    @app.put("/files/{sha256}")
    async def put_file(sha256: Sha256, request: Request, token: Annotated[str, Depends(bearer)]) -> dict[str, Any]:
        data = await request.body()
        digest = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())  # 25 MB: off the loop
        try:
            mime = files.check_bytes(sha256, digest, data)
        except files.BadFile as exc:
            return _error(exc.status, str(exc))
        # Through the writer like a push: the bytes are durable before the answer says "stored".
        return await asyncio.wrap_future(store.submit_write(
            lambda tx: files.store_file(tx, auth.authenticate_in(tx, token), sha256, mime, data)))

    @app.get("/files/{sha256}")
    def get_file(sha256: Sha256, token: Annotated[str, Depends(bearer)]) -> Response:
        try:
            with store.transaction(write=False) as tx:
                mime, data = files.read_file(tx, auth.authenticate_in(tx, token), sha256)
        except LookupError as exc:
            return _error(404, str(exc))
        return Response(data, media_type=mime)

    @app.get("/data/{table}/{row_uid}")
    def one_row(table: Name, row_uid: Uid, who: Annotated[auth.Principal, Depends(principal)]) -> dict[str, Any]:
        try:
            return merge.get_object(store, who, table, row_uid)
        except LookupError as exc:
            return _error(404, str(exc))

    @app.get("/data/{table}")
    def rows(table: Name, who: Annotated[auth.Principal, Depends(principal)],
             limit: Annotated[int, Query(ge=1, le=10000)] = 1000) -> list[dict[str, Any]]:
        return merge.list_objects(store, who, table, limit)

    return app


def init_server(database_url: str, admin_email: str, admin_password: str) -> dict[str, Any]:
    """Create the server's tables (idempotent) and its first admin user."""
    store = ServerStore(database_url)
    try:
        store.create_schema()
        with store.transaction() as tx:
            if tx.one("SELECT id FROM users WHERE email = ?", (auth.normalise_email(admin_email),)):
                return {"database": store.kind, "admin": auth.normalise_email(admin_email), "created": False}
            auth.add_user(tx, admin_email, admin_password, "admin")
        return {"database": store.kind, "admin": auth.normalise_email(admin_email), "created": True}
    finally:
        store.close()
