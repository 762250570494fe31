"""Administration over HTTP: load a contract bundle (audited). Guarded by an admin token
(GATEWAY_ADMIN_TOKEN); without one configured the endpoint is off (404)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from gateway.service.bodies import read_limited
from gateway.service.deps import in_thread
from gateway.service.errors import ApiError
from gateway.service.models import ErrorResponse

router = APIRouter(prefix="/v1/admin", tags=["administration"])


class BundleLoaded(BaseModel):
    """The contract engineer's summary of an accepted bundle (no content, no client keys)."""

    region: str
    version: str
    valid_from: str
    valid_to: str | None = None
    municipalities: list[str] = []
    products: int = 0
    providers: int = 0
    example: bool = False
    example_values: int = 0  # values marked example: true (invented where the plan is silent)
    uncited_rules: list[str] = []  # rules configured without the plan section they implement
    product_list: bool = False  # the products come (partly) from the region's CSV list
    sha256: str
    loaded_by: str
    loaded_at: str


def _admin(request: Request, token: str | None) -> str:
    expected = request.app.state.settings.admin_token
    if not expected:
        raise ApiError(404, "not_found", "administration over HTTP is not enabled (GATEWAY_ADMIN_TOKEN)")
    if not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(401, "unauthenticated", "a valid X-Admin-Token is required")
    return "admin-token"


@router.post(
    "/contracts",
    response_model=BundleLoaded,
    responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
               422: {"description": "The bundle contradicts itself or the schema: every problem "
                     "with file, YAML path and line.", "content": {"application/json": {"example": {
                         "error": {"code": "bundle_refused", "message": "the bundle was refused"},
                         "problems": [{"source": "<api>", "path": "products[3].tariffs[1]", "line": 88,
                                       "message": "tariff periods overlap"}]}}}}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/yaml": {
        "schema": {"type": "string"}, "example": "region: midden-holland\nversion: '2026.1'\n..."}}}},
    summary="Load a contract bundle",
)
async def load_bundle(request: Request, x_admin_token: str | None = Header(None),
                      x_actor: str | None = Header(None, description="Who loads it (audit).")) -> BundleLoaded:
    """Check a contract bundle (YAML) and put it into effect; the change is audited."""
    _admin(request, x_admin_token)
    text = (await read_limited(request, 5 * 1024 * 1024, "bundle")).decode("utf-8", "replace")
    registry = request.app.state.components.contracts
    actor = (x_actor or "api")[:64]
    from gateway.contracts import BundleError

    try:
        loaded = await in_thread(registry.load_text, text, actor)
    except BundleError as exc:
        raise ApiError(422, "bundle_refused", "the bundle was refused", problems=exc.public()) from None
    return BundleLoaded(**loaded.summary())
