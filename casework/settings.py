"""Casework settings from `INTAKE_*` environment variables or `.env` (see `.env.example`)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CaseworkSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    match_threshold: float = Field(default=0.7, gt=0, le=1)  # score at which `match` is true (screening and links)
    yente_url: str | None = None  # a yente server's root: screen through its /match API instead of the local index
    yente_dataset: str = "default"  # the yente collection to match against
    yente_api_key: str | None = None  # sent as `Authorization: ApiKey …` when set
    yente_timeout: float = Field(default=20.0, gt=0)

    @field_validator("yente_url", "yente_api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value
