"""Real-browser tests of the JupyterLab extension (Python Playwright + Debian chromium)."""
