"""GET /catalog: GPU types and prices, presets, validation ranges and pricing version, for the page."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.catalog.listing import CATALOG
from pipeline.http.app import caller_id, create_app, lambda_handler_for, success
from pipeline.runtime.execution_environment import finish_init


async def catalog(request: Request) -> Response:
    caller_id(request)  # authenticated like every route, though the catalog is the same for everyone
    return success(CATALOG)


app = create_app([Route("/catalog", catalog, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app)
