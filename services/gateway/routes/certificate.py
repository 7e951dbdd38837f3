"""`GET /ca.crt`: the root certificate of Caddy's local authority, for the phones to install.

Public on purpose: a root certificate is not a secret (its private key never leaves
data_dir/caddy), and a phone needs it before it can trust the page that would sign in.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response

from services.gateway.deps import State

router = APIRouter(tags=["https"])

CA_MEDIA_TYPE = "application/x-x509-ca-cert"  # what Android and iOS offer to install


@router.get(
    "/ca.crt", summary="The root certificate the phones install to trust Cradle's https address",
    response_class=Response, responses={200: {"content": {CA_MEDIA_TYPE: {}}},
                                        404: {"description": "Caddy has not made it yet"}},
)
def root_certificate(state: State) -> Response:
    settings = state.settings
    path = settings.https.root_certificate(settings.data_dir)
    try:
        pem = path.read_bytes()  # a few hundred bytes
    except FileNotFoundError as exc:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail="Cradle has no certificate yet: Caddy makes it the first time 'cradle up' runs with "
            "HTTPS on, under data_dir/caddy. Run 'cradle doctor' on the server to see why it has not.",
        ) from exc
    except OSError as exc:  # Caddy keeps its files to its own user
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"the gateway cannot read Caddy's certificate ({exc.strerror}): run both as one user",
        ) from exc
    return Response(pem, media_type=CA_MEDIA_TYPE, headers={
        "Content-Disposition": 'attachment; filename="cradle-root.crt"', "Cache-Control": "no-cache",
    })
