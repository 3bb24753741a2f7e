"""The web app: a JSON API with its OpenAPI schema, Sign-In with Ethereum, and
server-rendered pages whose small script talks to the member's wallet."""

from tastemaker.web.app import create_app

__all__ = ["create_app"]
