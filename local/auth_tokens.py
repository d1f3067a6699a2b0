"""Local JWT issuer and verifier, standing in for Cognito and API Gateway's JWT authorizer.

The RSA key pair is generated once into the state folder, so tokens stay valid across restarts and
`make token` works whether or not the stack is running. Verification follows API Gateway's rules:
RS256 only, a `kid` found in the JWKS, the signature, `iss`, `aud` (or `client_id` when there is no
`aud`), `exp`, `nbf` and `iat`. Any failure is one answer: 401 {"message": "Unauthorized"}.
"""

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER: Final = "https://auth.pipeline.local"
AUDIENCE: Final = "pipeline-local-web"
# As template.yaml's authorizer requires (a test compares them): scopes only access tokens carry.
REQUIRED_SCOPES: Final = ("openid", "aws.cognito.signin.user.admin")
DEFAULT_TTL_S: Final = 12 * 3600
# Names map to stable user ids: `make token USER=alice` is always the same `sub`.
_USER_NAMESPACE: Final = uuid.UUID("5b0d6f4e-2a67-4b8e-9c43-0f1e2d3c4b5a")


class Unauthorized(Exception):
    """The token fails a check; the reason is for the log, never for the client."""


def user_id_for(name_or_uuid: str) -> uuid.UUID:
    try:
        return uuid.UUID(name_or_uuid)
    except ValueError:
        return uuid.uuid5(_USER_NAMESPACE, name_or_uuid.strip().lower())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def load_or_create(cls, state: Path) -> "SigningKey":
        path = state / "jwt-signing-key.pem"
        if not path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            # Write then rename, so two processes starting at once never read half a key.
            tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(pem)
            tmp.chmod(0o600)
            tmp.replace(path)
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(private_key, rsa.RSAPrivateKey)
        jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
        return cls(kid=_thumbprint(jwk), private_key=private_key)

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {"keys": [jwk | {"kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def mint(self, user: str, *, ttl_s: int = DEFAULT_TTL_S, now: float | None = None) -> str:
        """An access token for `user` (a name or a UUID), shaped like a Cognito access token."""
        issued = int(now if now is not None else time.time())
        sub = str(user_id_for(user))
        claims = {
            "sub": sub,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "client_id": AUDIENCE,
            "token_use": "access",
            "scope": "openid",
            "username": user,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_s,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint: a stable key id derived from the public key."""
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def verify(
    token: str, jwks: dict[str, Any], *, issuer: str = ISSUER, audience: str = AUDIENCE
) -> dict[str, Any]:
    """The token's claims if API Gateway's JWT authorizer would accept it; Unauthorized otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"malformed token: {exc}") from None
    if header.get("alg") != "RS256":
        raise Unauthorized(f"algorithm {header.get('alg')!r} is not RS256")
    keys = {key.get("kid"): key for key in jwks.get("keys", [])}
    if header.get("kid") not in keys:
        raise Unauthorized("no key in the JWKS matches the token's kid")
    public_key = RSAAlgorithm.from_jwk(keys[header["kid"]])
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,  # type: ignore[arg-type]
            algorithms=["RS256"],
            issuer=issuer,
            options={"require": ["exp", "iss", "sub"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(str(exc)) from None
    # PyJWT reads a numeric string as a number; API Gateway (and RFC 7519: NumericDate) does not.
    for name in ("exp", "nbf", "iat"):
        if name in claims and (isinstance(claims[name], bool) or not isinstance(claims[name], int | float)):
            raise Unauthorized(f"{name} is not a number")
    # The routes' AuthorizationScopes: API Gateway wants one of them in `scope`. ID tokens have none.
    if not set(str(claims.get("scope", "")).split()) & set(REQUIRED_SCOPES):
        raise Unauthorized(f"scope has none of {' '.join(REQUIRED_SCOPES)}")
    # API Gateway: `aud` must match when present; tokens without it (Cognito access tokens) use client_id.
    if "aud" in claims:
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if audience not in audiences:
            raise Unauthorized("audience does not match")
    elif claims.get("client_id") != audience:
        raise Unauthorized("client_id does not match")
    return claims
