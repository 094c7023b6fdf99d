"""Route look-up before routing (kit/routing.py): the template a request reaches, for the authorization
and limits middlewares, with one table per shape of app."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from safeslot.kit import routing

router = APIRouter(prefix="/api/v1")


@router.get("/offices/{office}")
def office(office: str) -> str:
    return office


def _app(*, extra: bool = False, prefix: str = "") -> FastAPI:
    app = FastAPI()
    app.include_router(router, prefix=prefix)
    if extra:
        @app.post("/extra/{name}")
        def added(name: str) -> str:
            return name
    return app


def _scope(method: str, path: str) -> dict[str, str]:
    return {"method": method, "path": path}


def test_a_request_reaches_its_template() -> None:
    app = _app()
    assert routing.route_template(app, _scope("GET", "/api/v1/offices/central")) == "/api/v1/offices/{office}"
    assert routing.route_template(app, _scope("POST", "/api/v1/offices/central")) is None
    assert routing.route_template(app, _scope("GET", "/nowhere")) is None


def test_apps_of_one_shape_share_a_table_and_other_shapes_get_their_own() -> None:
    first, second = _app(), _app()
    assert routing.cached_routes(first) is routing.cached_routes(second)
    # a route more, or the same router under another prefix, is another table: never a stale answer
    extra, moved = _app(extra=True), _app(prefix="/v2")
    assert routing.route_template(extra, _scope("POST", "/extra/x")) == "/extra/{name}"
    assert routing.route_template(first, _scope("POST", "/extra/x")) is None
    assert routing.route_template(moved, _scope("GET", "/v2/api/v1/offices/c")) == "/v2/api/v1/offices/{office}"
    assert routing.route_template(moved, _scope("GET", "/api/v1/offices/c")) is None


def test_a_route_added_to_an_included_router_changes_the_table() -> None:
    local = APIRouter()
    app = FastAPI()
    app.include_router(local)
    assert "/late" not in [t for _, _, t in routing.cached_routes(app)]

    @local.get("/late")
    def late() -> str:
        return "late"

    fresh = FastAPI()
    fresh.include_router(local)
    assert "/late" in [t for _, _, t in routing.cached_routes(fresh)]
    assert routing.route_template(fresh, _scope("GET", "/late")) == "/late"
