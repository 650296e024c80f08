"""BCU → borough → ward: the Met's geography, which requests and volunteers are placed in."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base


class Bcu(Base):
    """A Basic Command Unit: the Met's 12 groupings of two to four boroughs."""

    __tablename__ = "bcus"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)

    boroughs: Mapped[list[Borough]] = relationship(back_populates="bcu", order_by="Borough.name")


class Borough(Base):
    __tablename__ = "boroughs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    bcu_id: Mapped[int] = mapped_column(ForeignKey("bcus.id"), index=True)
    # Approximate centre: where demo wards are scattered around when no real ward file is loaded.
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)

    bcu: Mapped[Bcu] = relationship(back_populates="boroughs")
    wards: Mapped[list[Ward]] = relationship(back_populates="borough", order_by="Ward.name")


class Ward(Base):
    __tablename__ = "wards"
    __table_args__ = (UniqueConstraint("borough_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # ONS ward code (E05…); unique across the country.
    code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    borough_id: Mapped[int] = mapped_column(ForeignKey("boroughs.id"), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    # A coordinator's choice (issue #23): the ward's panel leaves it only for urgent requests elsewhere.
    ring_fenced: Mapped[bool] = mapped_column(default=False)

    borough: Mapped[Borough] = relationship(back_populates="wards")

    @property
    def label(self) -> str:
        return f"{self.name}, {self.borough.name}"
