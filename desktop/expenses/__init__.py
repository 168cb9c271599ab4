"""The Mileage & Expenses section: trips, expenses with receipts, reports for approval, exports."""
