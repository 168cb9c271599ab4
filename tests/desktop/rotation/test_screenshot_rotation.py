"""`fieldatlas screenshot --view rotation`: the Rotation tab with a solved cycle, not an empty grid."""

from desktop.cli import main


def test_screenshot_of_the_rotation_tab_shows_a_solved_cycle(qapp, demo_db, tmp_path):
    from PySide6.QtGui import QColor, QImage

    out = tmp_path / "rotation.png"
    assert main(["screenshot", "--db", str(demo_db), "--view", "rotation", "--out", str(out)]) == 0
    image = QImage(str(out))
    # At least the asked size (a view's minimum width can make the window wider than asked).
    assert image.width() >= 1400 and image.height() == 860
    # Days with visits are shaded (r, 225, b) by load; an unsolved grid is white.
    shaded = 0
    for x in range(200, 900, 9):
        for y in range(120, 770, 9):
            c = QColor(image.pixel(x, y))
            shaded += c.green() == 225 and c.red() < 235
    assert shaded > 200
