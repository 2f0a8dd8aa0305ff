"""Fetch stage: HTTP (httpx), robots.txt (protego) and the browser (Playwright)."""
