"""Reproduces the open CP-SAT crash (see docs/notes/session-4-lead.md): run with QT_QPA_PLATFORM=offscreen, `python THIS DEMO.sqlite rotation 8`."""
import faulthandler, sys, time
faulthandler.enable(all_threads=True)
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QDate, QTimer
def main():
    global app
    steps = set(sys.argv[2].split(",")) if len(sys.argv) > 2 else {"plan", "rotation"}
    app = QApplication(sys.argv)
    from core.storage import open_database
    from core import settings as sm
    from desktop.context import AppContext
    from desktop.main_window import MainWindow
    store = open_database(sys.argv[1])
    ctx = AppContext(store, sm.Settings(), persist_settings=False)
    w = MainWindow(ctx); w.resize(1400, 860); w.show()

    def wait(sec):
        end = time.monotonic() + sec
        while time.monotonic() < end:
            app.processEvents(); time.sleep(0.02)

    w.show_section("plan"); wait(3)
    plan = w.view("plan")
    week = plan.week
    if "plan" in steps:
        week.days.setValue(5); week.seconds.setValue(30)
        week.plan_button.click(); print("plan started", flush=True); wait(4)
        week.stop_button.click(); print("plan stopped", flush=True); wait(2)
    rot = plan.rotation
    if "rotation" in steps:
        rot.seconds.setValue(30); rot.solve_button.click(); print("rotation started", flush=True); wait(4)
        rot.cancel_button.click(); print("rotation cancelled", flush=True); wait(float(sys.argv[3]) if len(sys.argv) > 3 else 2)
        print("active tasks:", [t.title for t in ctx.tasks.active], flush=True)
    w.show_section("territories"); wait(3)
    bal = w.view("territories").balance
    bal.seconds.setValue(15); bal.run_button.click(); print("balance started", flush=True)
    wait(25); print("survived", flush=True)

if __name__ == "__main__":
    main()
