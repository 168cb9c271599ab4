"""A small expense world: one rep, a second rep, a manager and an admin in an empty database, plus receipt files."""

from __future__ import annotations

import io
from datetime import date

import pytest

TODAY = date(2026, 11, 20)


@pytest.fixture
def world(empty_store):
    from core.storage import writes

    s = empty_store
    people = {}
    for name, role in (("Manny Manager", "manager"), ("Rita Rep", "rep"), ("Otto Other", "rep"), ("Ada Admin", "admin"),
                       ("Fiona Finance", "finance")):
        people[role if role not in people else "other"] = writes.insert(s, "reps", {
            "name": name, "role": role, "home_city": "Austin", "home_lat": 30.27, "home_lon": -97.74})
    s.people = people
    return s


def image_bytes(fmt: str = "PNG", colour: str = "white", size=(60, 80)) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, colour)
    ImageDraw.Draw(img).text((5, 5), "RECEIPT", fill="black")
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def pdf_bytes(text: str = "Hotel folio 1234") -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture
def receipts(tmp_path):
    folder = tmp_path / "receipts"
    folder.mkdir()
    files = {"png": folder / "lunch.png", "jpg": folder / "parking.jpg", "pdf": folder / "hotel.pdf",
             "txt": folder / "notes.png", "jpg2": folder / "tolls.jpg"}
    files["png"].write_bytes(image_bytes("PNG"))
    files["jpg"].write_bytes(image_bytes("JPEG", "yellow"))
    files["jpg2"].write_bytes(image_bytes("JPEG", "lightblue"))
    files["pdf"].write_bytes(pdf_bytes())
    files["txt"].write_text("this is not an image, whatever its name says")
    return files


@pytest.fixture
def world26(world):
    """The world with the 2026 IRS rate set the way a user would (72.5 cents, as the demo has it)."""
    from core.expenses import set_rate

    set_rate(world, "IRS", date(2026, 1, 1), "0.725")
    return world
