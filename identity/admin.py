"""A small client of Fief's admin API (``/admin/api``), authenticated with the admin API key."""

from __future__ import annotations

from typing import Any

import httpx

from identity.errors import FiefAdminError

__all__ = ["FiefAdmin"]

PAGE_SIZE = 100


class FiefAdmin:
    """Synchronous admin API calls; used by the bootstrap and by `labs64 token`."""

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 15.0) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/admin/api",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s,
            trust_env=False,
        )

    def __enter__(self) -> FiefAdmin:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise FiefAdminError(f"Fief admin API unreachable at {self._client.base_url}{path}: {error}") from error
        if response.status_code >= 400:
            raise FiefAdminError(
                f"Fief admin API {method} {path} failed with status {response.status_code}: {response.text[:500]}",
                status_code=response.status_code,
            )
        return response.json() if response.content else None

    def list(self, resource: str, **filters: Any) -> list[dict[str, Any]]:
        """Every object of ``resource`` (``tenants``, ``clients``...), following pagination."""
        results: list[dict[str, Any]] = []
        while True:
            page = self._call("GET", f"/{resource}/", params={**filters, "limit": PAGE_SIZE, "skip": len(results)})
            results.extend(page["results"])
            if len(results) >= page["count"] or not page["results"]:
                return results

    def create(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/{resource}/", json=body)

    def update(self, resource: str, object_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", f"/{resource}/{object_id}", json=body)

    def get_user(self, user_id: str) -> dict[str, Any]:
        return self._call("GET", f"/users/{user_id}")

    def delete_user(self, user_id: str) -> None:
        self._call("DELETE", f"/users/{user_id}")

    def user_access_token(self, user_id: str, client_uuid: str, scopes: list[str] | None = None) -> str:
        """Mint an access token for a user without their password (development and tests only)."""
        body = {"client_id": client_uuid, "scopes": scopes or ["openid"]}
        return self._call("POST", f"/users/{user_id}/access-token", json=body)["access_token"]
