"""Typed application keys: the narrow objects each route needs, put there by ``ivr.app``."""

from __future__ import annotations

from aiohttp import web

from ivr.web.services import Services

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
