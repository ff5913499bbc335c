"""Collected static files, named by their content, with the page's ES modules among them.

The page's JavaScript is ES modules served as they are (frontend/static/frontend/app.js imports
the others by relative path). Collected for production, every file is named by its hash; a
relative `import "./x.js"` would then load the unhashed copy, a second instance of the module
that no cache busting reaches. Django rewrites JavaScript module imports to the hashed names
when a storage says so (`support_js_module_import_aggregation`), as it rewrites CSS `url()`s.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
